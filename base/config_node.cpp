#include "base/config_node.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "base/file_util.h"
#include "base/units.h"

namespace assas {

struct ConfigNode::Source {
  std::string file;
};

namespace {

constexpr size_t kMaxConfigBytes = 4 << 20;

std::string location(const std::string& file, const YAML::Mark& mark) {
  std::string out = file;
  if (mark.line >= 0) {
    out += ':' + std::to_string(mark.line + 1) + ':' + std::to_string(mark.column + 1);
  }
  return out;
}

}  // namespace

Result<std::string> substitute_env(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '$' || i + 1 >= text.size()) {
      out += c;
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (text[i + 1] != '{') {
      out += c;
      continue;
    }
    size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return invalid_argument("unterminated '${' in '" + std::string(text) +
                              "'; write ${NAME}, or $$ for a literal $");
    }
    std::string_view inner = text.substr(i + 2, close - i - 2);
    std::optional<std::string_view> fallback;
    if (size_t dash = inner.find(":-"); dash != std::string_view::npos) {
      fallback = inner.substr(dash + 2);
      inner = inner.substr(0, dash);
    }
    bool valid_name = !inner.empty() && std::all_of(inner.begin(), inner.end(), [](char ch) {
      return ch == '_' || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
             (ch >= '0' && ch <= '9');
    });
    if (!valid_name) {
      return invalid_argument("'${" + std::string(inner) +
                              "}' is not an environment variable name (letters, digits, _)");
    }
    // getenv is not thread-safe against setenv; configs are read before threads start.
    const char* value = std::getenv(std::string(inner).c_str());  // NOLINT(concurrency-mt-unsafe)
    if (value != nullptr) {
      out += value;
    } else if (fallback) {
      out += *fallback;
    } else {
      return invalid_argument("environment variable '" + std::string(inner) +
                              "' is not set; set it or write ${" + std::string(inner) +
                              ":-default}");
    }
    i = close;
  }
  return out;
}

ConfigNode::ConfigNode(std::shared_ptr<const Source> source, YAML::Node node, std::string path)
    : source_(std::move(source)),
      node_(std::move(node)),
      path_(std::move(path)),
      known_keys_(std::make_shared<std::vector<std::string>>()) {}

Result<ConfigNode> ConfigNode::load_file(const std::string& path) {
  Result<std::string> text = read_file(path, kMaxConfigBytes);
  if (!text.is_ok()) {
    return invalid_argument("cannot read config: " + text.status().message());
  }
  return load_string(*text, path);
}

Result<ConfigNode> ConfigNode::load_string(std::string_view text, const std::string& name) {
  auto source = std::make_shared<Source>(Source{name});
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (!root.IsDefined() || root.IsNull()) {
      return invalid_argument(name + ": the config is empty");
    }
    return ConfigNode(source, root, "");
  } catch (const YAML::Exception& e) {
    return invalid_argument(location(name, e.mark) + ": " + e.msg);
  } catch (const std::exception& e) {
    return invalid_argument(name + ": " + e.what());
  }
}

const std::string& ConfigNode::file() const {
  return source_->file;
}

Status ConfigNode::error(std::string_view message) const {
  std::string out = location(source_->file, node_.Mark());
  out += ": ";
  if (!path_.empty()) {
    out += path_;
    out += ": ";
  }
  out += message;
  return invalid_argument(std::move(out));
}

Status ConfigNode::expect_map() const {
  if (!node_.IsMap()) {
    return error("must be a mapping of keys to values");
  }
  return Status::ok();
}

std::string ConfigNode::child_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

bool ConfigNode::has(std::string_view key) const {
  return get(key).has_value();
}

std::optional<ConfigNode> ConfigNode::get(std::string_view key) const {
  if (std::find(known_keys_->begin(), known_keys_->end(), key) == known_keys_->end()) {
    known_keys_->emplace_back(key);
  }
  if (!node_.IsMap()) {
    return std::nullopt;
  }
  try {
    for (const auto& entry : node_) {
      if (entry.first.IsScalar() && entry.first.Scalar() == key) {
        return ConfigNode(source_, entry.second, child_path(key));
      }
    }
  } catch (const YAML::Exception&) {
    return std::nullopt;
  }
  return std::nullopt;
}

Status ConfigNode::no_unknown_keys() const {
  if (!node_.IsMap()) {
    return Status::ok();
  }
  std::vector<std::string> seen;
  for (const auto& entry : node_) {
    ConfigNode key_node(source_, entry.first, path_);
    if (!entry.first.IsScalar()) {
      return key_node.error("keys must be plain words");
    }
    const std::string& key = entry.first.Scalar();
    std::string where = child_path(key);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      return ConfigNode(source_, entry.first, where)
          .error(
              "key appears twice; keep only one (a second one would silently override the "
              "first)");
    }
    seen.push_back(key);
    if (std::find(known_keys_->begin(), known_keys_->end(), key) == known_keys_->end()) {
      std::string valid;
      for (const std::string& k : *known_keys_) {
        valid += valid.empty() ? "" : ", ";
        valid += k;
      }
      return ConfigNode(source_, entry.first, where)
          .error("unknown key; valid keys here are: " + valid);
    }
  }
  return Status::ok();
}

Result<std::vector<ConfigNode>> ConfigNode::items() const {
  if (!node_.IsSequence()) {
    return error("must be a list");
  }
  std::vector<ConfigNode> out;
  size_t index = 0;
  for (const auto& item : node_) {
    out.push_back(ConfigNode(source_, item, path_ + "[" + std::to_string(index++) + "]"));
  }
  return out;
}

Result<std::string> ConfigNode::as_string() const {
  if (!node_.IsScalar()) {
    return error("must be a single value, not a list or mapping");
  }
  Result<std::string> value = substitute_env(node_.Scalar());
  if (!value.is_ok()) {
    return error(value.status().message());
  }
  return value;
}

Result<bool> ConfigNode::as_bool() const {
  Result<std::string> text = as_string();
  if (!text.is_ok()) {
    return text.status();
  }
  if (*text == "true" || *text == "yes" || *text == "on") {
    return true;
  }
  if (*text == "false" || *text == "no" || *text == "off") {
    return false;
  }
  return error("'" + *text + "' is not a boolean; write true or false");
}

Result<int64_t> ConfigNode::as_int(int64_t min, int64_t max) const {
  Result<std::string> text = as_string();
  if (!text.is_ok()) {
    return text.status();
  }
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || ptr != text->data() + text->size()) {
    return error("'" + *text + "' is not a whole number");
  }
  if (value < min || value > max) {
    return error(std::to_string(value) + " is out of range; use " + std::to_string(min) + " to " +
                 std::to_string(max));
  }
  return value;
}

Result<uint64_t> ConfigNode::as_size() const {
  Result<std::string> text = as_string();
  if (!text.is_ok()) {
    return text.status();
  }
  Result<uint64_t> size = parse_size(*text);
  if (!size.is_ok()) {
    return error(size.status().message());
  }
  return size;
}

Result<std::chrono::nanoseconds> ConfigNode::as_duration() const {
  Result<std::string> text = as_string();
  if (!text.is_ok()) {
    return text.status();
  }
  Result<std::chrono::nanoseconds> d = parse_duration(*text);
  if (!d.is_ok()) {
    return error(d.status().message());
  }
  return d;
}

Status ConfigNode::required_string(std::string_view key, std::string& out) const {
  std::optional<ConfigNode> child = get(key);
  if (!child) {
    return error("missing required key '" + std::string(key) + "'");
  }
  Result<std::string> value = child->as_string();
  if (!value.is_ok()) {
    return value.status();
  }
  if (value->empty()) {
    return child->error("must not be empty");
  }
  out = std::move(value).value();
  return Status::ok();
}

Status ConfigNode::optional_string(std::string_view key, std::string& out) const {
  std::optional<ConfigNode> child = get(key);
  if (!child) {
    return Status::ok();
  }
  Result<std::string> value = child->as_string();
  if (!value.is_ok()) {
    return value.status();
  }
  out = std::move(value).value();
  return Status::ok();
}

Status ConfigNode::optional_bool(std::string_view key, bool& out) const {
  std::optional<ConfigNode> child = get(key);
  if (!child) {
    return Status::ok();
  }
  Result<bool> value = child->as_bool();
  if (!value.is_ok()) {
    return value.status();
  }
  out = *value;
  return Status::ok();
}

Status ConfigNode::optional_int(std::string_view key, int64_t& out, int64_t min,
                                int64_t max) const {
  std::optional<ConfigNode> child = get(key);
  if (!child) {
    return Status::ok();
  }
  Result<int64_t> value = child->as_int(min, max);
  if (!value.is_ok()) {
    return value.status();
  }
  out = *value;
  return Status::ok();
}

Status ConfigNode::optional_uint(std::string_view key, uint64_t& out, uint64_t min,
                                 uint64_t max) const {
  int64_t value = static_cast<int64_t>(out);
  ASSAS_RETURN_IF_ERROR(optional_int(key, value, static_cast<int64_t>(min),
                                     static_cast<int64_t>(std::min<uint64_t>(max, INT64_MAX))));
  out = static_cast<uint64_t>(value);
  return Status::ok();
}

Status ConfigNode::optional_size(std::string_view key, uint64_t& out, uint64_t min,
                                 uint64_t max) const {
  std::optional<ConfigNode> child = get(key);
  if (!child) {
    return Status::ok();
  }
  Result<uint64_t> value = child->as_size();
  if (!value.is_ok()) {
    return value.status();
  }
  if (*value < min || *value > max) {
    return child->error(std::to_string(*value) + " bytes is out of range; use " +
                        std::to_string(min) + " to " + std::to_string(max) + " bytes");
  }
  out = *value;
  return Status::ok();
}

Status ConfigNode::optional_duration(std::string_view key, std::chrono::nanoseconds& out,
                                     std::chrono::nanoseconds min,
                                     std::chrono::nanoseconds max) const {
  std::optional<ConfigNode> child = get(key);
  if (!child) {
    return Status::ok();
  }
  Result<std::chrono::nanoseconds> value = child->as_duration();
  if (!value.is_ok()) {
    return value.status();
  }
  if (*value < min || *value > max) {
    auto ms = [](std::chrono::nanoseconds d) {
      return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) +
             "ms";
    };
    return child->error("out of range; use " + ms(min) + " to " + ms(max));
  }
  out = *value;
  return Status::ok();
}

Status ConfigNode::optional_millis(std::string_view key, std::chrono::milliseconds& out,
                                   std::chrono::nanoseconds min,
                                   std::chrono::nanoseconds max) const {
  std::chrono::nanoseconds value = out;
  ASSAS_RETURN_IF_ERROR(optional_duration(key, value, min, max));
  out = std::chrono::duration_cast<std::chrono::milliseconds>(value);
  return Status::ok();
}

Status ConfigNode::optional_choice(std::string_view key, std::string& out,
                                   std::initializer_list<std::string_view> choices) const {
  std::optional<ConfigNode> child = get(key);
  if (!child) {
    return Status::ok();
  }
  Result<std::string> value = child->as_string();
  if (!value.is_ok()) {
    return value.status();
  }
  std::string valid;
  for (std::string_view c : choices) {
    if (*value == c) {
      out = std::move(value).value();
      return Status::ok();
    }
    valid += valid.empty() ? "" : ", ";
    valid += c;
  }
  return child->error("'" + *value + "' is not valid; use one of: " + valid);
}

Status ConfigNode::optional_string_list(std::string_view key, std::vector<std::string>& out) const {
  std::optional<ConfigNode> child = get(key);
  if (!child) {
    return Status::ok();
  }
  Result<std::vector<ConfigNode>> list = child->items();
  if (!list.is_ok()) {
    return child->error("must be a list, e.g. [\"a\", \"b\"]");
  }
  std::vector<std::string> values;
  for (const ConfigNode& item : *list) {
    Result<std::string> value = item.as_string();
    if (!value.is_ok()) {
      return value.status();
    }
    values.push_back(std::move(value).value());
  }
  out = std::move(values);
  return Status::ok();
}

Status ConfigNode::optional_string_map(
    std::string_view key, std::vector<std::pair<std::string, std::string>>& out) const {
  std::optional<ConfigNode> child = get(key);
  if (!child) {
    return Status::ok();
  }
  if (!child->is_map()) {
    return child->error("must be a mapping, e.g. { service: nginx }");
  }
  std::vector<std::pair<std::string, std::string>> values;
  for (const auto& entry : child->node_) {
    ConfigNode value_node(source_, entry.second, child->child_path(entry.first.Scalar()));
    if (std::any_of(values.begin(), values.end(),
                    [&](const auto& kv) { return kv.first == entry.first.Scalar(); })) {
      return value_node.error("key appears twice");
    }
    Result<std::string> value = value_node.as_string();
    if (!value.is_ok()) {
      return value.status();
    }
    values.emplace_back(entry.first.Scalar(), std::move(value).value());
  }
  out = std::move(values);
  return Status::ok();
}

}  // namespace assas
