// The JSON-lines writer: SOC tooling reads these files, and a log line is attacker-controlled, so
// no input may break a line, forge a key, or lose a byte.

#include "transport/protocol/event_json.h"

#include <string>

#include <catch2/catch.hpp>

#include "tests/support/base64.h"

namespace assas::transport {
namespace {

std::string field(std::string_view key, std::string_view value) {
  std::string out;
  append_json_field(out, key, value);
  return out;
}

// The value of "key_base64":"..." in a field written by append_json_field.
std::string base64_value(const std::string& written, std::string_view key) {
  std::string prefix = "\"" + std::string(key) + "_base64\":\"";
  REQUIRE(written.rfind(prefix, 0) == 0);
  REQUIRE(written.back() == '"');
  return test::base64_decode(
      std::string_view(written).substr(prefix.size(), written.size() - prefix.size() - 1));
}

}  // namespace

TEST_CASE("JSON strings escape everything that could break a line or forge a key", "[json]") {
  REQUIRE(field("m", "plain") == R"("m":"plain")");
  REQUIRE(field("m", "a\"b\\c") == R"("m":"a\"b\\c")");
  REQUIRE(field("m", "l1\nl2\r\t") == R"("m":"l1\nl2\r\t")");
  REQUIRE(field("m", std::string_view("\0\x1f\x7f", 3)) == R"("m":"\u0000\u001f\u007f")");
  // U+2028 and U+2029 end lines in JavaScript-based tools.
  REQUIRE(field("m", "x\u2028y\u2029") == R"("m":"x\u2028y\u2029")");
  // A forged second event inside a message stays inside the string.
  std::string forged = field("m", "ok\"}\n{\"ts\":\"forged");
  REQUIRE(forged.find('\n') == std::string::npos);
  REQUIRE(forged == R"("m":"ok\"}\n{\"ts\":\"forged")");
}

TEST_CASE("valid UTF-8 passes through unchanged", "[json]") {
  REQUIRE(
      field("m", "caf\xc3\xa9 \xd8\xb9\xd8\xb3\xd8\xa7\xd8\xb3 \xe2\x82\xac \xf0\x9f\x94\x92") ==
      "\"m\":\"caf\xc3\xa9 \xd8\xb9\xd8\xb3\xd8\xa7\xd8\xb3 \xe2\x82\xac \xf0\x9f\x94\x92\"");
  REQUIRE(is_valid_utf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF, the last code point
}

TEST_CASE("invalid UTF-8 is refused strictly and stored as base64 of the exact bytes", "[json]") {
  for (std::string_view bad : {std::string_view("\xc0\xaf"),          // overlong '/'
                               std::string_view("\xe0\x80\xaf"),      // overlong
                               std::string_view("\xed\xa0\x80"),      // surrogate U+D800
                               std::string_view("\xf4\x90\x80\x80"),  // above U+10FFFF
                               std::string_view("abc\xe2\x82"),       // truncated
                               std::string_view("\x80"),              // lone continuation
                               std::string_view("\xff\xfe")}) {
    INFO("bytes: " << bad.size());
    REQUIRE_FALSE(is_valid_utf8(bad));
    std::string written = field("message", bad);
    REQUIRE(base64_value(written, "message") == bad);
  }
}

TEST_CASE("every byte value survives the base64 round trip", "[json]") {
  std::string all;
  for (int b = 0; b < 256; ++b) {
    all += static_cast<char>(b);
  }
  for (size_t len : {size_t{1}, size_t{2}, size_t{3}, size_t{4}, size_t{255}, size_t{256}}) {
    std::string value = all.substr(256 - len);  // starts with bytes >= 0x80: never valid UTF-8
    REQUIRE(base64_value(field("message", value), "message") == value);
  }
}

TEST_CASE("timestamps are RFC 3339 UTC with nanoseconds", "[json]") {
  auto ts = [](int64_t ns) {
    std::string out;
    append_rfc3339_ns(out, ns);
    return out;
  };
  REQUIRE(ts(0) == "1970-01-01T00:00:00.000000000Z");
  REQUIRE(ts(1795512327123456789) == "2026-11-24T09:25:27.123456789Z");
  REQUIRE(ts(1709164800000000001) == "2024-02-29T00:00:00.000000001Z");  // leap day
  REQUIRE(ts(-1) == "1969-12-31T23:59:59.999999999Z");
  REQUIRE(ts(INT64_MAX) == "2262-04-11T23:47:16.854775807Z");
}

TEST_CASE("an event is one line of keys in the documented order", "[json]") {
  transport::DecodedStream stream{"nginx", "/var/log/nginx/access.log", {{"service", "nginx"}}};
  transport::DecodedEvent event;
  event.time_ns = 0;
  event.stream = &stream;
  event.offset = 4096;
  event.message = "GET / HTTP/1.1\r";
  event.fields = {{"bad\"key", "v"}};
  std::string out;
  append_event_json(out, "web-01", "web-01.example", event);
  REQUIRE(out ==
          "{\"ts\":\"1970-01-01T00:00:00.000000000Z\",\"agent\":\"web-01\",\"host\":\"web-01."
          "example\",\"collector\":\"nginx\",\"source\":\"/var/log/nginx/access.log\",\"offset\":"
          "4096,\"message\":\"GET / HTTP/1.1\\r\",\"fields\":{\"service\":\"nginx\",\"_key_"
          "base64_YmFkImtleQ==\":\"dg==\"}}\n");
}

TEST_CASE("a field key that looks like an encoded one is itself encoded so it reads back",
          "[json]") {
  // Written as is, "x_base64":"eA==" would read back as key x with the value "x", and
  // "_key_base64_eA==":"eQ==" as key x with the value "y".
  transport::DecodedStream stream{"c", "s", {}};
  transport::DecodedEvent event;
  event.stream = &stream;
  event.fields = {{"x_base64", "eA=="}, {"_key_base64_eA==", "eQ=="}, {"_base64", "v"}};
  std::string out;
  append_event_json(out, "a", "h", event);
  REQUIRE(out.find(R"("fields":{"_key_base64_eF9iYXNlNjQ=":"ZUE9PQ==",)"
                   R"("_key_base64_X2tleV9iYXNlNjRfZUE9PQ==":"ZVE9PQ==",)"
                   R"("_key_base64_X2Jhc2U2NA==":"dg=="}})") != std::string::npos);
}

}  // namespace assas::transport
