#include "transport/syslog/syslog_writer.h"

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <ctime>

#include "transport/syslog/syslog_names.h"

namespace assas::transport {

namespace {

struct SeverityAlias {
  std::string_view name;
  int value;
};
// The deprecated names syslog(3) still accepts, and what application loggers commonly write.
constexpr std::array<SeverityAlias, 4> kSeverityAliases = {
    {{"panic", 0}, {"critical", 2}, {"error", 3}, {"warn", 4}}};

// RFC 5424 section 6 limits.
constexpr size_t kMaxHostnameBytes = 255;
constexpr size_t kMaxAppNameBytes = 48;
constexpr size_t kMaxProcidBytes = 128;
constexpr size_t kMaxMsgidBytes = 32;
constexpr size_t kMaxSdNameBytes = 32;
// A passed-through SD with more elements than this is refused: checking that no SD-ID repeats
// (RFC 5424 6.3.2) is pairwise, and no real sender comes near it.
constexpr size_t kMaxPassthroughElements = 32;

constexpr std::string_view kNil = "-";
constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// PRINTUSASCII: visible ASCII, no space.
bool is_print(char c) {
  return c >= 33 && c <= 126;
}
// SD-NAME: PRINTUSASCII except '=', SP, ']' and '"'.
bool is_sd_name_char(char c) {
  return is_print(c) && c != '=' && c != ']' && c != '"';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) {
      return false;
    }
  }
  return true;
}

// The value of 1 to 3 decimal digits (leading zeros allowed) when at most max, else -1.
int small_number(std::string_view s, int max) {
  if (s.empty() || s.size() > 3) {
    return -1;
  }
  int value = 0;
  for (char c : s) {
    if (!is_digit(c)) {
      return -1;
    }
    value = value * 10 + (c - '0');
  }
  return value <= max ? value : -1;
}

int facility_of(std::string_view value) {
  int number = small_number(value, 23);
  if (number >= 0) {
    return number;
  }
  for (size_t i = 0; i < kSyslogFacilityNames.size(); ++i) {
    if (iequals(value, kSyslogFacilityNames[i])) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

int severity_of(std::string_view value, const SyslogFormat& format) {
  for (const auto& [name, number] : format.severity_names) {
    if (iequals(value, name)) {
      return number;
    }
  }
  int number = small_number(value, 7);
  if (number >= 0) {
    return number;
  }
  for (size_t i = 0; i < kSyslogSeverityNames.size(); ++i) {
    if (iequals(value, kSyslogSeverityNames[i])) {
      return static_cast<int>(i);
    }
  }
  for (const SeverityAlias& alias : kSeverityAliases) {
    if (iequals(value, alias.name)) {
      return alias.value;
    }
  }
  return -1;
}

// The length of the valid UTF-8 sequence at s[at] (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF), or 0 when the byte there starts none.
size_t utf8_sequence_length(std::string_view s, size_t at) {
  auto byte = [&](size_t i) { return i < s.size() ? static_cast<uint8_t>(s[i]) : 0; };
  auto continuation = [](uint8_t b) { return b >= 0x80 && b <= 0xBF; };
  uint8_t lead = byte(at);
  if (lead < 0x80) {
    return 1;
  }
  if (lead >= 0xC2 && lead <= 0xDF) {
    return continuation(byte(at + 1)) ? 2 : 0;
  }
  if (lead >= 0xE0 && lead <= 0xEF) {
    uint8_t second = byte(at + 1);
    // E0 needs A0.. (else overlong); ED needs ..9F (else a UTF-16 surrogate).
    uint8_t low = lead == 0xE0 ? 0xA0 : 0x80;
    uint8_t high = lead == 0xED ? 0x9F : 0xBF;
    return second >= low && second <= high && continuation(byte(at + 2)) ? 3 : 0;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    uint8_t second = byte(at + 1);
    // F0 needs 90.. (else overlong); F4 needs ..8F (else above U+10FFFF).
    uint8_t low = lead == 0xF0 ? 0x90 : 0x80;
    uint8_t high = lead == 0xF4 ? 0x8F : 0xBF;
    return second >= low && second <= high && continuation(byte(at + 2)) &&
                   continuation(byte(at + 3))
               ? 4
               : 0;
  }
  return 0;
}

bool is_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    // ASCII runs are the common case; skip them without the full decoder.
    if (static_cast<uint8_t>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t length = utf8_sequence_length(s, i);
    if (length == 0) {
      return false;
    }
    i += length;
  }
  return true;
}

// The value of count digits at s[at..], or -1 when one is not a digit.
int digits_at(std::string_view s, size_t at, size_t count) {
  int value = 0;
  for (size_t i = at; i < at + count; ++i) {
    if (!is_digit(s[i])) {
      return -1;
    }
    value = value * 10 + (s[i] - '0');
  }
  return value;
}

int days_in_month(int year, int month) {
  constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[static_cast<size_t>(month - 1)];
}

// RFC 5424 6.2.3: RFC 3339 with upper-case 'T' and 'Z', at most 6 fraction digits and no leap
// second: "2026-11-30T00:47:34.123456+01:00". Anything else, RFC 3164 text included, is not one.
bool is_rfc5424_timestamp(std::string_view s) {
  constexpr size_t kDateTimeBytes = 19;  // "YYYY-MM-DDThh:mm:ss"
  if (s.size() < kDateTimeBytes + 1 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
      s[16] != ':') {
    return false;
  }
  int year = digits_at(s, 0, 4);
  int month = digits_at(s, 5, 2);
  int day = digits_at(s, 8, 2);
  int hour = digits_at(s, 11, 2);
  int minute = digits_at(s, 14, 2);
  int second = digits_at(s, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
      hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
    return false;
  }
  size_t at = kDateTimeBytes;
  if (s[at] == '.') {
    size_t start = ++at;
    while (at < s.size() && is_digit(s[at])) {
      ++at;
    }
    if (at == start || at - start > 6) {
      return false;
    }
  }
  if (at < s.size() && s[at] == 'Z') {
    return at + 1 == s.size();
  }
  if (at + 6 != s.size() || (s[at] != '+' && s[at] != '-') || s[at + 3] != ':') {
    return false;
  }
  int offset_hour = digits_at(s, at + 1, 2);
  int offset_minute = digits_at(s, at + 4, 2);
  return offset_hour >= 0 && offset_hour <= 23 && offset_minute >= 0 && offset_minute <= 59;
}

void put_digits(char* at, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// The read time as "2026-11-30T00:47:34.123456Z": UTC, microseconds (the most RFC 5424 allows).
void append_read_time(int64_t time_ns, std::string& out) {
  constexpr int64_t kNsPerSecond = 1'000'000'000;
  int64_t seconds = time_ns / kNsPerSecond;
  int64_t ns = time_ns % kNsPerSecond;
  if (ns < 0) {  // before 1970: floor, so the fraction stays positive
    ns += kNsPerSecond;
    --seconds;
  }
  auto t = static_cast<time_t>(seconds);
  struct tm tm {};
  // A year outside 0..9999 cannot be written in 4 digits; NILVALUE is the honest answer.
  if (gmtime_r(&t, &tm) == nullptr || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) {
    out += kNil;
    return;
  }
  std::array<char, 27> text{};
  char* p = text.data();
  put_digits(p, static_cast<unsigned>(tm.tm_year + 1900), 4);
  p[4] = '-';
  put_digits(p + 5, static_cast<unsigned>(tm.tm_mon + 1), 2);
  p[7] = '-';
  put_digits(p + 8, static_cast<unsigned>(tm.tm_mday), 2);
  p[10] = 'T';
  put_digits(p + 11, static_cast<unsigned>(tm.tm_hour), 2);
  p[13] = ':';
  put_digits(p + 14, static_cast<unsigned>(tm.tm_min), 2);
  p[16] = ':';
  put_digits(p + 17, static_cast<unsigned>(tm.tm_sec), 2);
  p[19] = '.';
  put_digits(p + 20, static_cast<unsigned>(ns / 1000), 6);
  p[26] = 'Z';
  out.append(text.data(), text.size());
}

// A header string: NILVALUE when empty, else cut to max_bytes with bytes outside PRINTUSASCII
// replaced by '_'. Printable runs are appended whole.
void append_header_value(std::string_view value, size_t max_bytes, std::string& out) {
  if (value.empty()) {
    out += kNil;
    return;
  }
  value = value.substr(0, max_bytes);
  size_t run = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    if (!is_print(value[i])) {
      out.append(value, run, i - run);
      out += '_';
      run = i + 1;
    }
  }
  out.append(value, run, value.size() - run);
}

// A PARAM-NAME (or our SD-ID): cut to 32 bytes, characters an SD-NAME cannot hold become '_',
// and an empty name becomes "_" so the element stays parseable.
void append_sd_name(std::string_view name, std::string& out) {
  if (name.empty()) {
    out += '_';
    return;
  }
  name = name.substr(0, kMaxSdNameBytes);
  for (char c : name) {
    out += is_sd_name_char(c) ? c : '_';
  }
}

// A PARAM-VALUE: '"', '\' and ']' escaped as RFC 5424 6.3.3 requires, bytes that are not UTF-8
// replaced by U+FFFD (PARAM-VALUE is UTF-8), everything else unchanged.
void append_param_value(std::string_view value, std::string& out) {
  size_t run = 0;
  size_t i = 0;
  while (i < value.size()) {
    char c = value[i];
    if (c == '"' || c == '\\' || c == ']') {
      out.append(value, run, i - run);
      out += '\\';
      out += c;
      run = ++i;
    } else if (static_cast<uint8_t>(c) < 0x80) {
      ++i;
    } else if (size_t length = utf8_sequence_length(value, i); length > 0) {
      i += length;
    } else {
      out.append(value, run, i - run);
      out += kReplacement;
      run = ++i;
    }
  }
  out.append(value, run, value.size() - run);
}

void append_param(std::string_view name, std::string_view value, std::string& out) {
  out += ' ';
  append_sd_name(name, out);
  out += "=\"";
  append_param_value(value, out);
  out += '"';
}

// Appends a `structured_data` field's value when it is RFC 5424 STRUCTURED-DATA (NILVALUE is not
// passed through), else nothing. It is refused for any break of the grammar, a repeated SD-ID, our
// own SD-ID (the RFC forbids a second element with it, and ours wins), or more than
// kMaxPassthroughElements elements. Values are copied the way append_param_value writes ours: an
// unescaped ']' gets its backslash and a byte that is not UTF-8 becomes U+FFFD, so what we send
// is valid even when the sender was lax (the syslog collector's parser allows both). A backslash
// before any other character stays, as the RFC says receivers keep it. Written while checked, in
// one linear pass; a refusal cuts out back to where it was.
void append_passthrough_sd(std::string_view sd, std::string_view our_id, std::string& out) {
  size_t mark = out.size();
  auto refuse = [&] { out.resize(mark); };
  // SD-ID views into sd, to check that none repeats.
  std::array<std::string_view, kMaxPassthroughElements> ids;
  size_t id_count = 0;
  auto name_end = [&](size_t at) {
    while (at < sd.size() && is_sd_name_char(sd[at])) {
      ++at;
    }
    return at;
  };
  size_t at = 0;
  if (sd.empty()) {
    return;  // "", like NILVALUE, is no SD to pass on
  }
  while (at < sd.size()) {
    if (sd[at] != '[' || id_count == ids.size()) {
      return refuse();
    }
    size_t id_end = name_end(at + 1);
    std::string_view id = sd.substr(at + 1, id_end - at - 1);
    if (id.empty() || id.size() > kMaxSdNameBytes || id == our_id) {
      return refuse();
    }
    for (size_t i = 0; i < id_count; ++i) {
      if (ids[i] == id) {
        return refuse();
      }
    }
    ids[id_count++] = id;
    out.append(sd, at, id_end - at);
    at = id_end;
    while (true) {
      if (at >= sd.size()) {
        return refuse();
      }
      if (sd[at] == ']') {
        out += ']';
        ++at;
        break;
      }
      // SP PARAM-NAME "=" %d34 PARAM-VALUE %d34
      if (sd[at] != ' ') {
        return refuse();
      }
      size_t param_end = name_end(at + 1);
      size_t param_bytes = param_end - at - 1;
      if (param_bytes == 0 || param_bytes > kMaxSdNameBytes || param_end + 1 >= sd.size() ||
          sd[param_end] != '=' || sd[param_end + 1] != '"') {
        return refuse();
      }
      out.append(sd, at, param_end + 2 - at);
      at = param_end + 2;
      while (true) {
        if (at >= sd.size()) {
          return refuse();
        }
        char c = sd[at];
        if (c == '"') {
          out += '"';
          ++at;
          break;
        }
        if (c == '\\' && at + 1 < sd.size() &&
            (sd[at + 1] == '"' || sd[at + 1] == '\\' || sd[at + 1] == ']')) {
          out.append(sd, at, 2);
          at += 2;
        } else if (c == ']') {
          out += "\\]";
          ++at;
        } else if (static_cast<uint8_t>(c) < 0x80) {
          out += c;
          ++at;
        } else if (size_t length = utf8_sequence_length(sd, at); length > 0) {
          out.append(sd, at, length);
          at += length;
        } else {
          out += kReplacement;
          ++at;
        }
      }
    }
  }
}

const FieldView* find_field(const std::vector<FieldView>& fields, std::string_view key) {
  for (const FieldView& field : fields) {
    if (field.first == key) {
      return &field;
    }
  }
  return nullptr;
}

// The first field named in keys (in the order of keys) whose value usable accepts, or null.
template <typename Usable>
const FieldView* first_usable(const std::vector<FieldView>& fields,
                              const std::vector<std::string>& keys, Usable&& usable) {
  for (const std::string& key : keys) {
    for (const FieldView& field : fields) {
      if (field.first == key && usable(field.second)) {
        return &field;
      }
    }
  }
  return nullptr;
}

bool non_empty(std::string_view value) {
  return !value.empty();
}

// The bytes the syslog collector's parser skips before <PRI> (a BOM, then SP, HT, CR, LF, NUL):
// trailer bytes of a sender's previous frame, which would break the relayed message's header.
std::string_view without_leading_junk(std::string_view message) {
  if (message.starts_with(kBom)) {
    message.remove_prefix(kBom.size());
  }
  size_t skip = 0;
  while (skip < message.size() &&
         (message[skip] == ' ' || message[skip] == '\t' || message[skip] == '\r' ||
          message[skip] == '\n' || message[skip] == '\0')) {
    ++skip;
  }
  return message.substr(skip);
}

// Fields that are never params of our element: the passthrough SD itself, the syslog collector's
// parse bookkeeping (priority is facility and severity again), and its sd.* copies of the SD.
bool never_a_param(std::string_view key) {
  return key == "structured_data" || key == "format" || key == "priority" || key.starts_with("sd.");
}

Status check_fields(std::string_view key, const std::vector<std::string>& fields) {
  for (const std::string& field : fields) {
    if (field.empty()) {
      return invalid_argument(std::string(key) + ": a field name is empty");
    }
  }
  return Status::ok();
}

Status check_header_text(std::string_view key, std::string_view value, size_t max_bytes) {
  if (value.size() > max_bytes) {
    return invalid_argument(std::string(key) + ": '" + std::string(value) + "' is longer than " +
                            std::to_string(max_bytes) + " bytes, the RFC 5424 limit");
  }
  for (char c : value) {
    if (!is_print(c)) {
      return invalid_argument(std::string(key) + ": '" + std::string(value) +
                              "' may hold only printable ASCII characters, no spaces");
    }
  }
  return Status::ok();
}

}  // namespace

int syslog_facility_code(std::string_view value) {
  return facility_of(value);
}

int syslog_severity_code(std::string_view value, const SyslogFormat& format) {
  return severity_of(value, format);
}

void write_syslog_message(const DecodedBatchHeader& batch, const DecodedEvent& event,
                          const SyslogFormat& format, std::string& out) {
  const std::vector<FieldView>& fields = event.fields;

  if (format.relay_rfc5424) {
    const FieldView* parsed_as = find_field(fields, "format");
    if (parsed_as != nullptr && parsed_as->second == "rfc5424" &&
        find_field(fields, "parse_error") == nullptr) {
      std::string_view original = without_leading_junk(event.message);
      // The collector found a <PRI> there; anything else means the field lied, so format it.
      if (original.starts_with('<')) {
        out += original;
        return;
      }
    }
  }

  int facility = format.facility;
  const FieldView* facility_field = first_usable(fields, format.facility_fields, [&](auto value) {
    int number = facility_of(value);
    if (number >= 0) {
      facility = number;
    }
    return number >= 0;
  });
  int severity = format.severity;
  const FieldView* severity_field = first_usable(fields, format.severity_fields, [&](auto value) {
    int number = severity_of(value, format);
    if (number >= 0) {
      severity = number;
    }
    return number >= 0;
  });
  const FieldView* timestamp_field =
      first_usable(fields, format.timestamp_fields, is_rfc5424_timestamp);
  const FieldView* hostname_field = first_usable(fields, format.hostname_fields, non_empty);
  const FieldView* app_name_field = first_usable(fields, format.app_name_fields, non_empty);
  const FieldView* procid_field = first_usable(fields, format.procid_fields, non_empty);
  const FieldView* msgid_field = first_usable(fields, format.msgid_fields, non_empty);

  std::array<char, 8> pri{};
  pri[0] = '<';
  // The masks keep even an unvalidated format within 3 digits, so the buffer always fits.
  char* pri_end =
      std::to_chars(pri.data() + 1, pri.data() + pri.size(), (facility & 31) * 8 + (severity & 7))
          .ptr;
  out.append(pri.data(), pri_end);
  out += ">1 ";

  if (timestamp_field != nullptr) {
    out += timestamp_field->second;
  } else {
    append_read_time(event.time_ns, out);
  }
  out += ' ';

  std::string_view hostname = batch.host;
  if (hostname_field != nullptr) {
    hostname = hostname_field->second;
  } else if (!format.hostname.empty()) {
    hostname = format.hostname;
  }
  append_header_value(hostname, kMaxHostnameBytes, out);
  out += ' ';
  std::string_view app_name;
  if (app_name_field != nullptr) {
    app_name = app_name_field->second;
  } else if (!format.app_name.empty()) {
    app_name = format.app_name;
  } else if (event.stream != nullptr) {
    app_name = event.stream->collector;
  }
  append_header_value(app_name, kMaxAppNameBytes, out);
  out += ' ';
  append_header_value(procid_field != nullptr ? procid_field->second : std::string_view(),
                      kMaxProcidBytes, out);
  out += ' ';
  append_header_value(msgid_field != nullptr ? msgid_field->second : std::string_view(),
                      kMaxMsgidBytes, out);
  out += ' ';

  size_t sd_start = out.size();
  const FieldView* passthrough = find_field(fields, "structured_data");
  if (passthrough != nullptr) {
    append_passthrough_sd(passthrough->second, format.sd_id, out);
  }
  if (!format.sd_id.empty()) {
    const std::array<const FieldView*, 7> consumed = {
        facility_field, severity_field, timestamp_field, hostname_field,
        app_name_field, procid_field,   msgid_field};
    out += '[';
    append_sd_name(format.sd_id, out);
    if (event.stream != nullptr) {
      append_param("collector", event.stream->collector, out);
      append_param("source", event.stream->source, out);
      for (const FieldView& field : event.stream->fields) {
        append_param(field.first, field.second, out);
      }
    }
    for (const FieldView& field : fields) {
      bool in_header = false;
      for (const FieldView* used : consumed) {
        in_header = in_header || used == &field;
      }
      if (!in_header && !never_a_param(field.first)) {
        append_param(field.first, field.second, out);
      }
    }
    out += ']';
  }
  if (out.size() == sd_start) {
    out += kNil;
  }

  if (!event.message.empty()) {
    out += ' ';
    // A message that already starts with the BOM keeps its own rather than getting two.
    if (format.bom && !event.message.starts_with(kBom) && is_utf8(event.message)) {
      out += kBom;
    }
    out += event.message;
  }
}

Status validate_syslog_format(const SyslogFormat& format) {
  if (format.facility < 0 || format.facility > 23) {
    return invalid_argument("facility: " + std::to_string(format.facility) +
                            " is not a syslog facility; give 0..23 (16..23 are local0..local7)");
  }
  if (format.severity < 0 || format.severity > 7) {
    return invalid_argument("severity: " + std::to_string(format.severity) +
                            " is not a syslog severity; give 0..7 (0 emerg .. 7 debug)");
  }
  for (const auto& [name, value] : format.severity_names) {
    if (name.empty()) {
      return invalid_argument("severity_names: a name is empty");
    }
    if (value < 0 || value > 7) {
      return invalid_argument("severity_names: '" + name + "' maps to " + std::to_string(value) +
                              "; give a severity 0..7 (0 emerg .. 7 debug)");
    }
  }

  if (!format.sd_id.empty()) {
    std::string_view id = format.sd_id;
    size_t at_sign = id.find('@');
    bool chars_ok = id.size() <= kMaxSdNameBytes;
    for (char c : id) {
      chars_ok = chars_ok && is_sd_name_char(c);
    }
    bool shape_ok = true;
    if (at_sign != std::string_view::npos) {
      std::string_view number = id.substr(at_sign + 1);
      shape_ok = at_sign > 0 && !number.empty();
      for (char c : number) {
        shape_ok = shape_ok && is_digit(c);
      }
    }
    if (!chars_ok || !shape_ok) {
      return invalid_argument(
          "sd_id: '" + format.sd_id +
          "' is not an RFC 5424 SD-ID; give name@<private enterprise number>, 1..32 printable "
          "ASCII characters without space, '=', ']' or '\"' (e.g. assas@32473), or \"\" for no "
          "element of ours");
    }
  }

  ASSAS_RETURN_IF_ERROR(check_header_text("hostname", format.hostname, kMaxHostnameBytes));
  ASSAS_RETURN_IF_ERROR(check_header_text("app_name", format.app_name, kMaxAppNameBytes));

  ASSAS_RETURN_IF_ERROR(check_fields("facility_fields", format.facility_fields));
  ASSAS_RETURN_IF_ERROR(check_fields("severity_fields", format.severity_fields));
  ASSAS_RETURN_IF_ERROR(check_fields("hostname_fields", format.hostname_fields));
  ASSAS_RETURN_IF_ERROR(check_fields("app_name_fields", format.app_name_fields));
  ASSAS_RETURN_IF_ERROR(check_fields("procid_fields", format.procid_fields));
  ASSAS_RETURN_IF_ERROR(check_fields("msgid_fields", format.msgid_fields));
  ASSAS_RETURN_IF_ERROR(check_fields("timestamp_fields", format.timestamp_fields));
  return Status::ok();
}

}  // namespace assas::transport
