#include "ingest/verify/stored_event.h"

#include <limits>
#include <random>

#include <catch2/catch.hpp>

#include "transport/protocol/event_json.h"

namespace assas::ingest {
namespace {

std::string rfc3339(int64_t time_ns) {
  std::string out;
  transport::append_rfc3339_ns(out, time_ns);
  return out;
}

// Bytes of every kind the JSON writer treats differently: ASCII, quotes and backslashes,
// control characters, DEL, multi-byte UTF-8, U+2028, and bytes that are not UTF-8.
std::string random_bytes(std::mt19937_64& rng, size_t max_size) {
  static const std::vector<std::string> kPieces = {"a",
                                                   "Z",
                                                   " ",
                                                   "0",
                                                   "\"",
                                                   "\\",
                                                   "\n",
                                                   "\t",
                                                   std::string(1, '\0'),
                                                   "\x7f",
                                                   "\xc3\xa9",
                                                   "\xe2\x80\xa8",
                                                   "\xf0\x9f\x94\x92",
                                                   "\xff",
                                                   "\xc3",
                                                   "\xed\xa0\x80",
                                                   "_base64",
                                                   "_key_base64_",
                                                   "{",
                                                   "}",
                                                   ":",
                                                   ","};
  std::string out;
  size_t pieces = rng() % (max_size + 1);
  for (size_t i = 0; i < pieces; ++i) {
    out += kPieces[rng() % kPieces.size()];
  }
  return out;
}

// The canonical bytes of a stored line, or the error.
std::string canonical_of_line(std::string_view line) {
  StoredEvent event;
  Status s = event.decode(line);
  if (!s.is_ok()) {
    return "error: " + s.message();
  }
  std::string out;
  transport::append_canonical_event(out, event.view());
  return out;
}

}  // namespace

TEST_CASE("stored times parse back to the nanoseconds append_rfc3339_ns wrote", "[verify]") {
  std::vector<int64_t> times = {0,
                                1,
                                -1,
                                999999999,
                                1000000000,
                                -999999999,
                                -1000000000,
                                -1000000001,
                                1795000000123456789,
                                -86400LL * 1000000000,
                                951782400LL * 1000000000,  // 2000-02-29
                                std::numeric_limits<int64_t>::min(),
                                std::numeric_limits<int64_t>::min() + 1,
                                std::numeric_limits<int64_t>::max(),
                                std::numeric_limits<int64_t>::max() - 1};
  std::mt19937_64 rng(42);
  for (int i = 0; i < 20000; ++i) {
    times.push_back(static_cast<int64_t>(rng()));
  }
  for (int64_t time_ns : times) {
    int64_t back = 0;
    const std::string text = rfc3339(time_ns);
    INFO(text << " from " << time_ns);
    REQUIRE(parse_rfc3339_ns(text, back));
    REQUIRE(back == time_ns);
  }
  int64_t at = 0;
  REQUIRE(parse_rfc3339_ns("1969-12-31T23:59:59.999999999Z", at));
  REQUIRE(at == -1);
  REQUIRE(parse_rfc3339_ns("2024-02-29T00:00:00.000000000Z", at));
}

TEST_CASE("times the writer never writes are refused", "[verify]") {
  int64_t at = 0;
  for (const char* text : {"2026-11-24T09:25:27.123456789",  "2026-11-24T09:25:27.12345678Z",
                           "2026-11-24t09:25:27.123456789Z", "2026-11-24T09:25:27.123456789z",
                           "2026-11-24 09:25:27.123456789Z", "2026-13-24T09:25:27.123456789Z",
                           "2026-00-24T09:25:27.123456789Z", "2026-02-29T09:25:27.123456789Z",
                           "2100-02-29T09:25:27.123456789Z", "2026-04-31T09:25:27.123456789Z",
                           "2026-11-00T09:25:27.123456789Z", "2026-11-24T24:00:00.000000000Z",
                           "2026-11-24T09:60:27.123456789Z", "2026-11-24T09:25:60.123456789Z",
                           "2026-11-24T09:25:27.12345678xZ", "+026-11-24T09:25:27.123456789Z",
                           "2262-04-11T23:47:16.854775808Z",  // one past INT64_MAX
                           "1677-09-21T00:12:43.145224191Z",  // one before INT64_MIN
                           "9999-12-31T23:59:59.999999999Z", ""}) {
    INFO(text);
    REQUIRE_FALSE(parse_rfc3339_ns(text, at));
  }
}

TEST_CASE("every stored line decodes to the canonical bytes of the event written", "[verify]") {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 300; ++round) {
    transport::BatchEncoder encoder;
    std::vector<transport::Field> stream_fields;
    for (size_t i = rng() % 4; i > 0; --i) {
      stream_fields.emplace_back(random_bytes(rng, 4), random_bytes(rng, 6));
    }
    const std::string collector = random_bytes(rng, 3);
    const std::string source = random_bytes(rng, 8);
    uint32_t stream = encoder.add_stream(collector, source, stream_fields);
    std::vector<std::vector<std::string>> keep;  // the per-event field bytes
    for (int e = 0; e < 5; ++e) {
      std::vector<std::string>& bytes = keep.emplace_back();
      for (size_t i = rng() % 4; i > 0; --i) {
        bytes.push_back(random_bytes(rng, 4));
        bytes.push_back(random_bytes(rng, 6));
      }
      std::vector<transport::FieldView> fields;
      for (size_t i = 0; i + 1 < bytes.size(); i += 2) {
        fields.emplace_back(bytes[i], bytes[i + 1]);
      }
      const uint64_t offset = rng() % 3 == 0 ? std::numeric_limits<uint64_t>::max() : rng() % 1000;
      encoder.add_event(static_cast<int64_t>(rng()), stream, offset, random_bytes(rng, 30), fields);
    }
    const std::string host = random_bytes(rng, 4);
    const std::string raw = encoder.finish(host);
    Status s = transport::decode_batch(
        raw, 100,
        [&](const transport::DecodedBatchHeader& header, const transport::DecodedEvent& event) {
          std::string expected;
          transport::append_canonical_event(
              expected,
              transport::CanonicalEventView{event.time_ns, header.host, event.stream->collector,
                                            event.stream->source, event.offset,
                                            event.stream->fields, event.fields, event.message});
          std::string json;
          transport::append_event_json(json, random_bytes(rng, 3), header.host, event);
          REQUIRE(json.back() == '\n');
          json.pop_back();
          INFO(json);
          REQUIRE(canonical_of_line(json) == expected);
        });
    REQUIRE(s.is_ok());
  }
}

TEST_CASE("a stored line that is not what assas-ingest writes is an error saying why", "[verify]") {
  const std::string good =
      R"({"ts":"2026-11-24T09:00:01.518002311Z","agent":"web-01","host":"web-01",)"
      R"("collector":"auth","source":"/var/log/auth.log","offset":8812,"message":"hi",)"
      R"("fields":{"service":"sshd","x_base64":"/wA=","_key_base64_/w==":"AA=="}})";
  REQUIRE_FALSE(canonical_of_line(good).starts_with("error"));
  auto refused = [&](const std::string& from, const std::string& to, const std::string& why) {
    std::string line = good;
    size_t at = line.find(from);
    REQUIRE(at != std::string::npos);
    line.replace(at, from.size(), to);
    INFO(line);
    std::string result = canonical_of_line(line);
    REQUIRE(result.starts_with("error: "));
    REQUIRE_THAT(result, Catch::Contains(why));
  };
  refused(R"("agent":"web-01","host":"web-01")", R"("host":"web-01","agent":"web-01")",
          "expected \"agent\"");
  refused(R"("message":"hi",)", "", "7 members");
  refused(R"("message":"hi",)", R"("message":"hi","extra":1,)", "9 members");
  refused(R"("message":"hi")", R"("message_base64":"h!==")", "not valid base64");
  refused(R"("x_base64":"/wA=")", R"("x_base64":"/wB=")", "not valid base64");
  refused(R"("_key_base64_/w==")", R"("_key_base64_/w=")", "not valid base64");
  refused("09:00:01.518002311Z", "09:00:01.518Z", "\"ts\"");
  refused("8812", "-1", "\"offset\"");
  refused("8812", "1.5", "\"offset\"");
  refused("8812", "18446744073709551616", "\"offset\"");
  refused("8812", "\"8812\"", "wrong type");
  refused(R"("service":"sshd")", R"("service":7)", "not a string");
  refused(R"("hi")", R"("hi\u0)", "not a valid JSON line");
  refused(R"({"ts")", R"([{"ts")", "not a valid JSON line");
}

TEST_CASE("printable escapes what could forge an output line", "[verify]") {
  REQUIRE(printable("a\nb\\c\xff") == "a\\x0ab\\x5cc\\xff");
  REQUIRE(printable(std::string(50, 'x'), 4) == "xxxx...");
}

}  // namespace assas::ingest
