#include "transport/nats/nats_subject.h"

#include <array>

namespace assas::transport {
namespace {

constexpr std::array<std::string_view, 3> kPlaceholders = {"{agent}", "{host}", "{collector}"};

bool is_safe_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Calls literal(text) and placeholder(index) for the parts of a template, in order.
template <typename Literal, typename Placeholder>
void walk(std::string_view t, Literal&& literal, Placeholder&& placeholder) {
  while (!t.empty()) {
    size_t open = t.find('{');
    literal(t.substr(0, open));
    if (open == std::string_view::npos) {
      return;
    }
    t.remove_prefix(open);
    size_t index = kPlaceholders.size();
    for (size_t i = 0; i < kPlaceholders.size(); ++i) {
      if (t.substr(0, kPlaceholders[i].size()) == kPlaceholders[i]) {
        index = i;
      }
    }
    if (index == kPlaceholders.size()) {
      literal(t.substr(0, 1));  // validate_subject_template refused it; kept for robustness
      t.remove_prefix(1);
      continue;
    }
    placeholder(index);
    t.remove_prefix(kPlaceholders[index].size());
  }
}

}  // namespace

Status validate_subject_template(std::string_view t) {
  if (t.empty() || t.size() > 255) {
    return invalid_argument("subject: 1 to 255 characters, e.g. \"logs.{agent}.{collector}\"");
  }
  std::string_view rest = t;
  while (!rest.empty()) {
    size_t open = rest.find('{');
    if (open == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(open);
    size_t close = rest.find('}');
    std::string_view name =
        rest.substr(0, close == std::string_view::npos ? rest.size() : close + 1);
    bool known = false;
    for (std::string_view p : kPlaceholders) {
      known = known || name == p;
    }
    if (!known) {
      return invalid_argument("subject: '" + std::string(name) +
                              "' is not a placeholder; use {agent}, {host} or {collector}");
    }
    rest.remove_prefix(name.size());
  }
  size_t token_start = 0;
  for (size_t i = 0; i <= t.size(); ++i) {
    if (i == t.size() || t[i] == '.') {
      if (i == token_start) {
        return invalid_argument("subject: '" + std::string(t) +
                                "' has an empty token (a leading, trailing or doubled '.')");
      }
      token_start = i + 1;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(t[i]);
    if (t[i] == '*' || t[i] == '>' || c <= ' ' || c == 0x7f) {
      return invalid_argument("subject: '" + std::string(t) +
                              "' has a wildcard, a space or a control character; a subject to "
                              "publish to is literal");
    }
  }
  return Status::ok();
}

std::string subject_wildcard(std::string_view subject_template) {
  std::string out;
  walk(
      subject_template, [&](std::string_view text) { out.append(text); },
      [&](size_t) { out.push_back('*'); });
  return out;
}

void append_subject_token(std::string& out, std::string_view value) {
  if (value.empty()) {
    out.push_back('_');
    return;
  }
  for (char c : value) {
    out.push_back(is_safe_byte(c) ? c : '_');
  }
}

void append_subject(std::string& out, std::string_view subject_template,
                    const SubjectValues& values) {
  walk(
      subject_template, [&](std::string_view text) { out.append(text); },
      [&](size_t index) {
        append_subject_token(out, index == 0   ? values.agent
                                  : index == 1 ? values.host
                                               : values.collector);
      });
}

std::string_view event_json_host(std::string_view line) {
  // The first "host" key is the real one: the values before it (ts, agent) are JSON strings in
  // which a quote is always escaped, so `,"host` cannot occur inside them.
  for (std::string_view key :
       {std::string_view(",\"host\":\""), std::string_view(",\"host_base64\":\"")}) {
    size_t at = line.find(key);
    if (at == std::string_view::npos) {
      continue;
    }
    size_t begin = at + key.size();
    size_t end = begin;
    while (end < line.size() && line[end] != '"') {
      end += line[end] == '\\' ? 2 : 1;
    }
    return line.substr(begin, std::min(end, line.size()) - begin);
  }
  return {};
}

}  // namespace assas::transport
