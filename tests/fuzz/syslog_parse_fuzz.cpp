// Syslog headers (collectors/syslog/syslog_parser.h): RFC 5424, RFC 3164 and what devices send
// under that name, straight from the network. The input is one message. Properties, from the
// parser's contract: it never fails, at most one parse_error and always last, format names one of
// the two grammars and matches the format field, the priority is 0..191 in canonical decimal with
// its facility and severity, the header fields respect their grammar's lengths, at most
// kMaxSdFields sd.* fields, every view points into the message, the owned values or a constant,
// and parsing again (into the same, reused result) gives the same fields.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "collectors/syslog/syslog_parser.h"
#include "tests/fuzz/fuzz_support.h"

namespace co = assas::collectors;

namespace {

// A syslog message is at most a datagram or the collector's max_message_bytes (64 KiB by default).
constexpr size_t kMaxInput = 64 << 10;

bool inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

// Where a field's view may point: the message, one of the owned strings, or (for names, the
// facility and severity words and format) a string literal, which none of the former holds.
bool points_to_known_place(std::string_view view, std::string_view message,
                           const co::SyslogParse& parse) {
  if (view.empty() || inside(view, message)) {
    return true;
  }
  return std::any_of(parse.owned.begin(), parse.owned.end(),
                     [&](const std::string& owned) { return inside(view, owned); }) ||
         view.size() <= 32;  // a constant: a field name, format, facility or severity word
}

std::vector<std::pair<std::string, std::string>> copy_fields(const co::SyslogParse& parse) {
  return {parse.fields.begin(), parse.fields.end()};
}

std::string_view value_of(const co::SyslogParse& parse, std::string_view key) {
  for (const auto& [k, v] : parse.fields) {
    if (k == key) {
      return v;
    }
  }
  return {};
}

bool has(const co::SyslogParse& parse, std::string_view key) {
  return std::any_of(parse.fields.begin(), parse.fields.end(),
                     [&](const auto& field) { return field.first == key; });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInput) {
    return 0;
  }
  std::string_view message(reinterpret_cast<const char*>(data), size);
  static co::SyslogParse parse;  // reused, as a connection reuses it
  co::parse_syslog(message, parse);

  ASSAS_FUZZ_CHECK(parse.format.empty() || parse.format == "rfc5424" || parse.format == "rfc3164");
  ASSAS_FUZZ_CHECK(value_of(parse, "format") == parse.format);
  size_t errors = 0;
  size_t sd_fields = 0;
  for (size_t i = 0; i < parse.fields.size(); ++i) {
    const auto& [key, value] = parse.fields[i];
    ASSAS_FUZZ_CHECK(!key.empty());
    ASSAS_FUZZ_CHECK(points_to_known_place(key, message, parse));
    ASSAS_FUZZ_CHECK(points_to_known_place(value, message, parse));
    if (key == "parse_error") {
      ++errors;
      ASSAS_FUZZ_CHECK(i + 1 == parse.fields.size());
    }
    if (key.substr(0, 3) == "sd.") {
      ++sd_fields;
    }
  }
  ASSAS_FUZZ_CHECK(errors <= 1);
  ASSAS_FUZZ_CHECK(parse.ok() == (errors == 0));
  ASSAS_FUZZ_CHECK(sd_fields <= co::kMaxSdFields);
  if (has(parse, "priority")) {
    std::string_view pri = value_of(parse, "priority");
    uint64_t value = 0;
    ASSAS_FUZZ_CHECK(assas::parse_decimal_u64(pri, value) && value <= 191);
    ASSAS_FUZZ_CHECK(pri == std::to_string(value));
    ASSAS_FUZZ_CHECK(has(parse, "facility") && has(parse, "severity"));
  } else {
    // Without a <PRI> there is nothing but the error.
    ASSAS_FUZZ_CHECK(parse.fields.size() == 1 && errors == 1 && parse.format.empty());
  }
  ASSAS_FUZZ_CHECK(value_of(parse, "appname").size() <= 48);
  ASSAS_FUZZ_CHECK(value_of(parse, "procid").size() <= 128);
  if (parse.format == "rfc5424") {
    ASSAS_FUZZ_CHECK(value_of(parse, "hostname").size() <= 255);
    ASSAS_FUZZ_CHECK(value_of(parse, "msgid").size() <= 32);
  } else {
    ASSAS_FUZZ_CHECK(!has(parse, "msgid") && !has(parse, "structured_data") && sd_fields == 0);
  }
  for (std::string_view key : {"timestamp", "hostname", "appname", "procid", "msgid"}) {
    ASSAS_FUZZ_CHECK(!has(parse, key) ||
                     (value_of(parse, key) != "-" && !value_of(parse, key).empty()));
  }

  auto first = copy_fields(parse);
  co::parse_syslog(message, parse);
  ASSAS_FUZZ_CHECK(copy_fields(parse) == first);
  return 0;
}
