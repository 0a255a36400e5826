#include "ingest/verify/stored_event.h"

#include <charconv>

#include "base/base64.h"

namespace assas::ingest {
namespace {

constexpr std::string_view kBase64Suffix = "_base64";
constexpr std::string_view kKeyBase64Prefix = "_key_base64_";
constexpr int64_t kNanosPerSecond = 1000000000;

bool read_digits(std::string_view text, size_t at, size_t count, int64_t& out) {
  out = 0;
  for (size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') {
      return false;
    }
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

bool is_leap_year(int64_t year) {
  return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

int64_t days_in_month(int64_t year, int64_t month) {
  static constexpr int64_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : kDays[month - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date: the inverse of the writer's
// civil_from_days (the same era arithmetic).
int64_t days_from_civil(int64_t year, int64_t month, int64_t day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t yoe = year - era * 400;
  const int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Member `index` of the line must be key (a string) or key_base64 (base64 of the bytes).
Status read_string(const JsonValue& root, size_t index, std::string_view key, std::string& out) {
  const std::string& name = root.keys[index];
  const JsonValue& value = root.items[index];
  const bool base64 = name.size() == key.size() + kBase64Suffix.size() && name.starts_with(key) &&
                      ends_with(name, kBase64Suffix);
  if (name != key && !base64) {
    return corruption("member " + std::to_string(index + 1) + " is \"" + printable(name) +
                      "\", expected \"" + std::string(key) + "\" or \"" + std::string(key) +
                      "_base64\"");
  }
  if (value.kind != JsonValue::Kind::kString) {
    return corruption("\"" + name + "\" is not a string");
  }
  out.clear();
  if (!base64) {
    out = value.text;
  } else if (!decode_base64(value.text, out)) {
    return corruption("\"" + name + "\" is not valid base64");
  }
  return Status::ok();
}

Status expect_key(const JsonValue& root, size_t index, std::string_view key, JsonValue::Kind kind) {
  if (root.keys[index] != key) {
    return corruption("member " + std::to_string(index + 1) + " is \"" +
                      printable(root.keys[index]) + "\", expected \"" + std::string(key) + "\"");
  }
  if (root.items[index].kind != kind) {
    return corruption("\"" + std::string(key) + "\" has the wrong type");
  }
  return Status::ok();
}

}  // namespace

bool parse_rfc3339_ns(std::string_view t, int64_t& time_ns) {
  if (t.size() != 30 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' ||
      t[16] != ':' || t[19] != '.' || t[29] != 'Z') {
    return false;
  }
  int64_t year = 0;
  int64_t month = 0;
  int64_t day = 0;
  int64_t hour = 0;
  int64_t minute = 0;
  int64_t second = 0;
  int64_t nanos = 0;
  if (!read_digits(t, 0, 4, year) || !read_digits(t, 5, 2, month) || !read_digits(t, 8, 2, day) ||
      !read_digits(t, 11, 2, hour) || !read_digits(t, 14, 2, minute) ||
      !read_digits(t, 17, 2, second) || !read_digits(t, 20, 9, nanos)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
      minute > 59 || second > 59) {
    return false;
  }
  // Years 0000..9999 keep this far from overflowing; the product below may not fit.
  int64_t seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  // seconds * 1e9 + nanos, arranged so that INT64_MIN (whose seconds times 1e9 alone does not
  // fit) is reachable: a negative time is (seconds + 1) * 1e9 minus the rest.
  if (seconds < 0 && nanos > 0) {
    seconds += 1;
    nanos -= kNanosPerSecond;
  }
  int64_t total = 0;
  if (__builtin_mul_overflow(seconds, kNanosPerSecond, &total) ||
      __builtin_add_overflow(total, nanos, &total)) {
    return false;
  }
  time_ns = total;
  return true;
}

std::string printable(std::string_view bytes, size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < max_bytes; ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (bytes.size() > max_bytes) {
    out += "...";
  }
  return out;
}

Status StoredEvent::decode(std::string_view line) {
  static constexpr size_t kMembers = 8;  // ts, agent, host, collector, source, offset, message,
                                         // fields
  if (!parse_json(line, root_)) {
    return corruption("not a valid JSON line");
  }
  if (root_.kind != JsonValue::Kind::kObject) {
    return corruption("not a JSON object");
  }
  if (root_.keys.size() != kMembers) {
    return corruption(std::to_string(root_.keys.size()) +
                      " members, expected 8 (ts, agent, host, collector, source, offset, "
                      "message, fields)");
  }
  ASSAS_RETURN_IF_ERROR(expect_key(root_, 0, "ts", JsonValue::Kind::kString));
  if (!parse_rfc3339_ns(root_.items[0].text, time_ns_)) {
    return corruption("\"ts\" is not a time as assas-ingest writes it: \"" +
                      printable(root_.items[0].text) + "\"");
  }
  std::string agent;  // not hashed (docs/integrity.md), but it must be well-formed all the same
  ASSAS_RETURN_IF_ERROR(read_string(root_, 1, "agent", agent));
  ASSAS_RETURN_IF_ERROR(read_string(root_, 2, "host", host_));
  ASSAS_RETURN_IF_ERROR(read_string(root_, 3, "collector", collector_));
  ASSAS_RETURN_IF_ERROR(read_string(root_, 4, "source", source_));
  ASSAS_RETURN_IF_ERROR(expect_key(root_, 5, "offset", JsonValue::Kind::kNumber));
  const std::string& offset = root_.items[5].text;
  auto [end, ec] = std::from_chars(offset.data(), offset.data() + offset.size(), offset_);
  if (ec != std::errc() || end != offset.data() + offset.size() || offset[0] == '-') {
    return corruption("\"offset\" is not an unsigned 64-bit integer: " + printable(offset));
  }
  ASSAS_RETURN_IF_ERROR(read_string(root_, 6, "message", message_));
  ASSAS_RETURN_IF_ERROR(expect_key(root_, 7, "fields", JsonValue::Kind::kObject));
  return decode_fields(root_.items[7]);
}

Status StoredEvent::decode_fields(const JsonValue& fields) {
  fields_.clear();
  field_views_.clear();
  fields_.resize(fields.keys.size());
  for (size_t i = 0; i < fields.keys.size(); ++i) {
    const std::string& name = fields.keys[i];
    const JsonValue& value = fields.items[i];
    auto& [key, text] = fields_[i];
    if (value.kind != JsonValue::Kind::kString) {
      return corruption("field \"" + printable(name) + "\" is not a string");
    }
    // The rule of docs/ingest.md, "Fields", in its order: the key-and-value form first.
    bool ok = true;
    if (name.starts_with(kKeyBase64Prefix)) {
      ok = decode_base64(std::string_view(name).substr(kKeyBase64Prefix.size()), key) &&
           decode_base64(value.text, text);
    } else if (ends_with(name, kBase64Suffix)) {
      key = name.substr(0, name.size() - kBase64Suffix.size());
      ok = decode_base64(value.text, text);
    } else {
      key = name;
      text = value.text;
    }
    if (!ok) {
      return corruption("field \"" + printable(name) + "\" is not valid base64");
    }
  }
  field_views_.reserve(fields_.size());
  for (const auto& [key, text] : fields_) {
    field_views_.emplace_back(key, text);
  }
  return Status::ok();
}

transport::CanonicalEventView StoredEvent::view() const {
  transport::CanonicalEventView view;
  view.time_ns = time_ns_;
  view.host = host_;
  view.collector = collector_;
  view.source = source_;
  view.offset = offset_;
  view.fields_first = field_views_;
  view.message = message_;
  return view;
}

}  // namespace assas::ingest
