// The JSON writer (transport/protocol/event_json.h): every byte of a log line, a path, a host name
// or a field goes into the JSON lines that assas-ingest stores and the broker outputs publish, and
// SOC tooling reads them. The input gives the agent, host, collector, source, time, offset, the
// stream's and the event's fields, and the message. Properties: the output is one line (a
// newline at its end and nowhere else, no raw U+2028 or U+2029) holding one strictly valid JSON
// object with the documented keys in order, and it is reversible: every value (as a string, or
// its _base64 form exactly when it is not valid UTF-8), every field key and the time and offset
// decode to what went in.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ingest/verify/json_reader.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/support/base64.h"
#include "transport/protocol/event_json.h"

namespace tr = assas::transport;
using assas::ingest::JsonValue;

namespace {

// One member of an object.
struct Member {
  const std::string& first;
  const JsonValue& second;
};

std::vector<Member> members(const JsonValue& object) {
  std::vector<Member> out;
  for (size_t i = 0; i < object.keys.size(); ++i) {
    out.push_back({object.keys[i], object.items[i]});
  }
  return out;
}

bool has_suffix(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Checks that member holds key = value, as a string or as <key>_base64 (exactly when the value is
// not valid UTF-8).
void check_value(const Member& member, std::string_view key, std::string_view value) {
  ASSAS_FUZZ_CHECK(member.second.kind == JsonValue::Kind::kString);
  if (tr::is_valid_utf8(value)) {
    ASSAS_FUZZ_CHECK(member.first == key);
    ASSAS_FUZZ_CHECK(member.second.text == value);
  } else {
    ASSAS_FUZZ_CHECK(member.first == std::string(key) + "_base64");
    ASSAS_FUZZ_CHECK(assas::test::base64_decode(member.second.text) == value);
  }
}

// A field as a reader gets it back from its JSON member, by the rule docs/ingest.md gives.
std::pair<std::string, std::string> read_field(const Member& member) {
  constexpr std::string_view kKeyBase64 = "_key_base64_";
  constexpr std::string_view kBase64 = "_base64";
  ASSAS_FUZZ_CHECK(member.second.kind == JsonValue::Kind::kString);
  const std::string& key = member.first;
  const std::string& value = member.second.text;
  if (key.compare(0, kKeyBase64.size(), kKeyBase64) == 0) {
    return {assas::test::base64_decode(std::string_view(key).substr(kKeyBase64.size())),
            assas::test::base64_decode(value)};
  }
  if (has_suffix(key, kBase64)) {
    return {key.substr(0, key.size() - kBase64.size()), assas::test::base64_decode(value)};
  }
  return {key, value};
}

// Days since 1970-01-01 of a civil date (the inverse of the writer's conversion).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int64_t digits(std::string_view s) {
  int64_t v = 0;
  for (char c : s) {
    ASSAS_FUZZ_CHECK(c >= '0' && c <= '9');
    v = v * 10 + (c - '0');
  }
  return v;
}

void check_time(std::string_view ts, int64_t time_ns) {
  // "2026-11-24T09:25:27.123456789Z"; every int64 of nanoseconds is within 1677..2262.
  ASSAS_FUZZ_CHECK(ts.size() == 30 && ts[4] == '-' && ts[7] == '-' && ts[10] == 'T' &&
                   ts[13] == ':' && ts[16] == ':' && ts[19] == '.' && ts[29] == 'Z');
  int64_t days =
      days_from_civil(digits(ts.substr(0, 4)), digits(ts.substr(5, 2)), digits(ts.substr(8, 2)));
  int64_t seconds = days * 86400 + digits(ts.substr(11, 2)) * 3600 + digits(ts.substr(14, 2)) * 60 +
                    digits(ts.substr(17, 2));
  int64_t nanos = digits(ts.substr(20, 9));
  // seconds * 1e9 + nanos, computed so that it cannot overflow on the way.
  ASSAS_FUZZ_CHECK(seconds == time_ns / 1000000000 - (time_ns % 1000000000 < 0 ? 1 : 0));
  ASSAS_FUZZ_CHECK(nanos == (time_ns % 1000000000 + 1000000000) % 1000000000);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  assas::fuzz::FuzzInput in(data, size);
  std::string_view agent = in.sized(64);
  std::string_view host = in.sized(64);
  tr::DecodedStream stream;
  stream.collector = in.sized(64);
  stream.source = in.sized(255);
  tr::DecodedEvent event;
  event.time_ns = static_cast<int64_t>(in.u64());
  event.offset = in.u64();
  event.stream = &stream;
  size_t stream_fields = in.byte() % 4;
  for (size_t i = 0; i < stream_fields; ++i) {
    std::string_view key = in.sized(32);
    stream.fields.emplace_back(key, in.sized(64));
  }
  size_t event_fields = in.byte() % 4;
  for (size_t i = 0; i < event_fields; ++i) {
    std::string_view key = in.sized(32);
    event.fields.emplace_back(key, in.sized(64));
  }
  event.message = in.rest();

  std::string out = "previous line\n";  // appends to what is there
  const size_t start = out.size();
  tr::append_event_json(out, agent, host, event);
  ASSAS_FUZZ_CHECK(out.compare(0, start, "previous line\n") == 0);
  std::string_view line = std::string_view(out).substr(start);
  ASSAS_FUZZ_CHECK(!line.empty() && line.back() == '\n');
  line.remove_suffix(1);
  ASSAS_FUZZ_CHECK(line.find('\n') == std::string_view::npos);
  ASSAS_FUZZ_CHECK(line.find('\r') == std::string_view::npos);
  ASSAS_FUZZ_CHECK(line.find("\xe2\x80\xa8") == std::string_view::npos);
  ASSAS_FUZZ_CHECK(line.find("\xe2\x80\xa9") == std::string_view::npos);

  JsonValue root;
  ASSAS_FUZZ_CHECK(assas::ingest::parse_json(line, root));
  ASSAS_FUZZ_CHECK(root.kind == JsonValue::Kind::kObject);
  const std::vector<Member> m = members(root);
  ASSAS_FUZZ_CHECK(m.size() == 8);
  ASSAS_FUZZ_CHECK(m[0].first == "ts" && m[0].second.kind == JsonValue::Kind::kString);
  check_time(m[0].second.text, event.time_ns);
  check_value(m[1], "agent", agent);
  check_value(m[2], "host", host);
  check_value(m[3], "collector", stream.collector);
  check_value(m[4], "source", stream.source);
  ASSAS_FUZZ_CHECK(m[5].first == "offset" && m[5].second.kind == JsonValue::Kind::kNumber);
  ASSAS_FUZZ_CHECK(m[5].second.text == std::to_string(event.offset));
  check_value(m[6], "message", event.message);
  ASSAS_FUZZ_CHECK(m[7].first == "fields" && m[7].second.kind == JsonValue::Kind::kObject);

  std::vector<std::pair<std::string, std::string>> expected(stream.fields.begin(),
                                                            stream.fields.end());
  expected.insert(expected.end(), event.fields.begin(), event.fields.end());
  const std::vector<Member> fields = members(m[7].second);
  ASSAS_FUZZ_CHECK(fields.size() == expected.size());
  for (size_t i = 0; i < fields.size(); ++i) {
    ASSAS_FUZZ_CHECK(read_field(fields[i]) == expected[i]);
  }
  return 0;
}
