#include "collectors/syslog/syslog_parser.h"

#include <array>
#include <cstdint>

#include "collectors/syslog/syslog_timestamp.h"
#include "transport/syslog/syslog_names.h"

// Every index below is checked against the message size before the byte at it is read, and every
// loop moves forward through the message, so a parse is O(message size) plus the pairwise check
// of at most kMaxSdFields sd.* names.

namespace assas::collectors {
namespace {

using transport::kSyslogFacilityNames;
using transport::kSyslogSeverityNames;

// RFC 5424 section 6; an RFC 3164 TAG and PID are held to the APP-NAME and PROCID limits.
constexpr size_t kMaxHostnameBytes = 255;
constexpr size_t kMaxAppNameBytes = 48;
constexpr size_t kMaxProcIdBytes = 128;
constexpr size_t kMaxMsgIdBytes = 32;
constexpr size_t kMaxSdNameBytes = 32;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
// PRINTUSASCII of RFC 5424: visible ASCII, no space.
bool is_print(char c) {
  return c >= 33 && c <= 126;
}
bool is_sd_name_char(char c) {
  return is_print(c) && c != '=' && c != ']' && c != '"';
}

bool all_print(std::string_view s) {
  for (char c : s) {
    if (!is_print(c)) {
      return false;
    }
  }
  return true;
}

std::string_view token_at(std::string_view s, size_t at) {
  if (at >= s.size()) {
    return {};
  }
  size_t end = s.find(' ', at);
  return s.substr(at, end == std::string_view::npos ? s.size() - at : end - at);
}

size_t skip_spaces(std::string_view s, size_t at) {
  while (at < s.size() && s[at] == ' ') {
    ++at;
  }
  return at;
}

void add(SyslogParse& out, std::string_view name, std::string_view value) {
  out.fields.emplace_back(name, value);
}

void add_unless_nil(SyslogParse& out, std::string_view name, std::string_view value) {
  if (value != "-") {
    add(out, name, value);
  }
}

void fail(SyslogParse& out, std::string_view reason) {
  add(out, "parse_error", reason);
}

// "name:", "name[pid]:" or "name[pid]" → appname and procid.
void add_tag(std::string_view token, SyslogParse& out) {
  size_t name_end = 0;
  while (name_end < token.size() && is_print(token[name_end]) && token[name_end] != ':' &&
         token[name_end] != '[' && token[name_end] != ']') {
    ++name_end;
  }
  std::string_view name = token.substr(0, name_end);
  std::string_view rest = token.substr(name_end);
  if (name.empty() || name.size() > kMaxAppNameBytes) {
    return;
  }
  if (rest == ":") {
    add_unless_nil(out, "appname", name);  // "-" is no name, as everywhere in the header
    return;
  }
  if (rest.empty() || rest[0] != '[') {
    return;
  }
  size_t close = rest.find(']');
  if (close == std::string_view::npos || (close + 1 != rest.size() && rest.substr(close) != "]:")) {
    return;
  }
  std::string_view pid = rest.substr(1, close - 1);
  if (pid.empty() || pid.size() > kMaxProcIdBytes || !all_print(pid)) {
    return;
  }
  add_unless_nil(out, "appname", name);
  add_unless_nil(out, "procid", pid);
}

bool tag_shaped(std::string_view token) {
  return !token.empty() && (token.back() == ':' || token.find('[') != std::string_view::npos);
}

void parse_rfc3164(std::string_view m, size_t at, SyslogParse& out) {
  std::string_view timestamp;
  size_t length = rfc3339_length(m.substr(at));
  if (length > 0) {
    timestamp = m.substr(at, length);
    at += length;
  } else {
    size_t digits = at;
    while (digits < m.size() && is_digit(m[digits]) && digits - at < 10) {
      ++digits;
    }
    if (digits > at && m.substr(digits, 2) == ": ") {
      at = digits + 2;  // Cisco's sequence number, with or without a timestamp after it
    }
    size_t start = at;
    if (start < m.size() && (m[start] == '*' || m[start] == '.')) {
      ++start;  // Cisco: '*' the clock is not synchronised, '.' it was but is not now
    }
    length = bsd_timestamp_length(m.substr(start));
    if (length > 0) {
      timestamp = m.substr(start, length);
      at = start + length;
      if (at < m.size() && m[at] == ':') {
        ++at;
      }
    }
  }
  if (!timestamp.empty() && at < m.size() && m[at] != ' ') {
    return;  // "Nov 29 21:39:19x": not a timestamp; nothing else can be told apart
  }
  if (!timestamp.empty()) {
    add(out, "timestamp", timestamp);
  }
  at = skip_spaces(m, at);
  std::string_view token = token_at(m, at);
  if (!tag_shaped(token) && !timestamp.empty()) {
    if (token.empty() || token.size() > kMaxHostnameBytes || !all_print(token)) {
      return;
    }
    add_unless_nil(out, "hostname", token);  // as for RFC 5424: "-" is no hostname
    token = token_at(m, skip_spaces(m, at + token.size()));
  }
  if (tag_shaped(token)) {
    add_tag(token, out);
  }
}

// One SD param value at m[at], just after its opening quote: its end (at the closing quote) and
// whether it has escapes to undo; npos when the message ends first.
size_t param_value_end(std::string_view m, size_t at, bool& escaped) {
  while (at < m.size() && m[at] != '"') {
    if (m[at] == '\\' && at + 1 < m.size() &&
        (m[at + 1] == '"' || m[at + 1] == '\\' || m[at + 1] == ']')) {
      escaped = true;
      at += 2;
    } else {
      ++at;
    }
  }
  return at < m.size() ? at : std::string_view::npos;
}

std::string unescape(std::string_view raw) {
  std::string value;
  value.reserve(raw.size());
  for (size_t k = 0; k < raw.size(); ++k) {
    if (raw[k] == '\\' && k + 1 < raw.size() &&
        (raw[k + 1] == '"' || raw[k + 1] == '\\' || raw[k + 1] == ']')) {
      ++k;
    }
    value.push_back(raw[k]);
  }
  return value;
}

size_t sd_name_end(std::string_view m, size_t at) {
  while (at < m.size() && is_sd_name_char(m[at])) {
    ++at;
  }
  return at;
}

void add_sd_param(std::string_view id, std::string_view name, std::string_view raw, bool escaped,
                  size_t& sd_fields, SyslogParse& out) {
  if (sd_fields >= kMaxSdFields) {
    return;
  }
  std::string field_name = "sd.";
  field_name.append(id).append(".").append(name);
  for (const agent::FieldView& field : out.fields) {
    if (field.first == field_name) {
      return;
    }
  }
  ++sd_fields;
  std::string_view owned_name = out.owned.emplace_back(std::move(field_name));
  add(out, owned_name, escaped ? std::string_view(out.owned.emplace_back(unescape(raw))) : raw);
}

// One SD-ELEMENT at m[at] == '['; at moves past its ']'. Returns an error reason or "".
std::string_view parse_sd_element(std::string_view m, size_t& at, size_t& sd_fields,
                                  SyslogParse& out) {
  constexpr std::string_view kUnterminated = "unterminated SD element";
  size_t id_end = sd_name_end(m, at + 1);
  std::string_view id = m.substr(at + 1, id_end - at - 1);
  at = id_end;
  if (at >= m.size()) {
    return kUnterminated;
  }
  if (id.empty() || id.size() > kMaxSdNameBytes) {
    return "bad SD-ID";
  }
  while (at < m.size()) {
    if (m[at] == ']') {
      ++at;
      return {};
    }
    if (m[at] != ' ') {
      return "bad SD-PARAM";
    }
    size_t name_end = sd_name_end(m, at + 1);
    std::string_view name = m.substr(at + 1, name_end - at - 1);
    if (name_end >= m.size()) {
      return kUnterminated;
    }
    if (name.empty() || name.size() > kMaxSdNameBytes || m[name_end] != '=') {
      return "bad SD-PARAM";
    }
    if (name_end + 1 >= m.size()) {
      return kUnterminated;
    }
    if (m[name_end + 1] != '"') {
      return "bad SD-PARAM";
    }
    bool escaped = false;
    size_t value_start = name_end + 2;
    size_t value_end = param_value_end(m, value_start, escaped);
    if (value_end == std::string_view::npos) {
      return kUnterminated;
    }
    add_sd_param(id, name, m.substr(value_start, value_end - value_start), escaped, sd_fields, out);
    at = value_end + 1;
  }
  return kUnterminated;
}

// STRUCTURED-DATA at m[at], then the end or SP MSG.
void parse_structured_data(std::string_view m, size_t at, SyslogParse& out) {
  if (m[at] == '-') {
    ++at;
  } else if (m[at] == '[') {
    size_t start = at;
    size_t index = out.fields.size();
    add(out, "structured_data", {});
    size_t sd_fields = 0;
    while (at < m.size() && m[at] == '[') {
      std::string_view error = parse_sd_element(m, at, sd_fields, out);
      if (!error.empty()) {
        out.fields.erase(out.fields.begin() + static_cast<std::ptrdiff_t>(index));
        return fail(out, error);
      }
    }
    out.fields[index].second = m.substr(start, at - start);
  } else {
    return fail(out, "bad STRUCTURED-DATA");
  }
  if (at < m.size() && m[at] != ' ') {
    fail(out, "no SP after STRUCTURED-DATA");
  }
}

struct HeaderField {
  std::string_view name;
  size_t max_bytes;  // 0: the timestamp, checked by its grammar
  std::string_view bad;
  std::string_view missing;
};
constexpr std::array<HeaderField, 5> kHeader = {{
    {"timestamp", 0, "bad TIMESTAMP", "header ends before TIMESTAMP"},
    {"hostname", kMaxHostnameBytes, "bad HOSTNAME", "header ends before HOSTNAME"},
    {"appname", kMaxAppNameBytes, "bad APP-NAME", "header ends before APP-NAME"},
    {"procid", kMaxProcIdBytes, "bad PROCID", "header ends before PROCID"},
    {"msgid", kMaxMsgIdBytes, "bad MSGID", "header ends before MSGID"},
}};

// m[at] is the SP after VERSION "1", or the end.
void parse_rfc5424(std::string_view m, size_t at, SyslogParse& out) {
  for (const HeaderField& field : kHeader) {
    if (at + 1 >= m.size()) {
      return fail(out, field.missing);
    }
    std::string_view value = token_at(m, at + 1);
    bool valid = field.max_bytes == 0
                     ? value == "-" || (!value.empty() && rfc3339_length(value) == value.size())
                     : !value.empty() && value.size() <= field.max_bytes && all_print(value);
    if (!valid) {
      return fail(out, field.bad);
    }
    add_unless_nil(out, field.name, value);
    at += 1 + value.size();
  }
  if (at + 1 < m.size()) {
    parse_structured_data(m, at + 1, out);
  }
}

// Skips a BOM, then SP HT CR LF NUL.
size_t skip_leading(std::string_view m) {
  size_t at = m.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  while (at < m.size() &&
         (m[at] == ' ' || m[at] == '\t' || m[at] == '\r' || m[at] == '\n' || m[at] == '\0')) {
    ++at;
  }
  return at;
}

}  // namespace

void SyslogParse::clear() {
  fields.clear();
  format = {};
  owned.clear();
}

void parse_syslog(std::string_view m, SyslogParse& out) {
  out.clear();
  if (m.empty()) {
    return fail(out, "empty message");
  }
  size_t at = skip_leading(m);
  if (at >= m.size() || m[at] != '<') {
    return fail(out, "no <PRI> at the start");
  }
  size_t digits = at + 1;
  while (digits < m.size() && is_digit(m[digits]) && digits - at <= 3) {
    ++digits;
  }
  if (digits >= m.size()) {
    return fail(out, "unterminated <PRI>");
  }
  size_t count = digits - at - 1;
  if (count == 0 || count > 3 || m[digits] != '>') {
    return fail(out, "bad <PRI>");
  }
  int pri = number_at(m, at + 1, count);
  if (pri > 191) {
    return fail(out, "PRI above 191");
  }
  // The digits without leading zeros: a substring of the message, so nothing to own.
  std::string_view priority = m.substr(at + 1, count);
  while (priority.size() > 1 && priority[0] == '0') {
    priority.remove_prefix(1);
  }
  at = digits + 1;

  size_t version_end = at;
  while (version_end < m.size() && is_digit(m[version_end]) && version_end - at < 4) {
    ++version_end;
  }
  size_t version_digits = version_end - at;
  bool rfc5424 = version_digits >= 1 && version_digits <= 3 && m[at] != '0' &&
                 (version_end == m.size() || m[version_end] == ' ');
  if (rfc5424 && m.substr(at, version_digits) != "1") {
    add(out, "priority", priority);
    add(out, "facility", kSyslogFacilityNames[static_cast<size_t>(pri / 8)]);
    add(out, "severity", kSyslogSeverityNames[static_cast<size_t>(pri % 8)]);
    return fail(out, "unsupported syslog version");
  }
  out.format = rfc5424 ? "rfc5424" : "rfc3164";
  add(out, "format", out.format);
  add(out, "priority", priority);
  add(out, "facility", kSyslogFacilityNames[static_cast<size_t>(pri / 8)]);
  add(out, "severity", kSyslogSeverityNames[static_cast<size_t>(pri % 8)]);
  if (rfc5424) {
    parse_rfc5424(m, version_end, out);
  } else {
    parse_rfc3164(m, at, out);
  }
}

}  // namespace assas::collectors
