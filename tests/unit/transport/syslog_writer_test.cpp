#include "transport/syslog/syslog_writer.h"

#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

namespace assas::transport {

namespace {

// 2026-11-30T00:47:34.123456789Z
constexpr int64_t kReadTimeNs = 1795999654123456789;
constexpr std::string_view kReadTime = "2026-11-30T00:47:34.123456Z";
constexpr std::string_view kOurs =
    "[assas@32473 collector=\"nginx\" source=\"/var/log/nginx/error.log\"]";

using Fields = std::vector<FieldView>;

// One event of one stream in a batch from host web-01, written with format.
struct Scenario {
  DecodedBatchHeader batch{"web-01", {}, 1};
  DecodedStream stream{"nginx", "/var/log/nginx/error.log", {}};
  DecodedEvent event;
  SyslogFormat format;

  explicit Scenario(Fields fields = {}, std::string_view message = "hello") {
    event.time_ns = kReadTimeNs;
    event.stream = &stream;
    event.message = message;
    event.fields = std::move(fields);
  }

  std::string write() const {
    std::string out;
    write_syslog_message(batch, event, format, out);
    return out;
  }
};

std::string write_with(Fields fields, std::string_view message = "hello") {
  return Scenario(std::move(fields), message).write();
}

// "<PRI>" of a written message.
std::string pri_of(const std::string& message) {
  return message.substr(0, message.find('>') + 1);
}

// The header parts after PRI and VERSION: TIMESTAMP HOSTNAME APP-NAME PROCID MSGID.
std::vector<std::string> header_of(const std::string& message) {
  std::vector<std::string> parts;
  size_t at = message.find(' ') + 1;
  for (int i = 0; i < 5; ++i) {
    size_t end = message.find(' ', at);
    parts.push_back(message.substr(at, end - at));
    at = end + 1;
  }
  return parts;
}

// What follows MSGID: STRUCTURED-DATA [SP MSG].
std::string after_header(const std::string& message) {
  size_t at = 0;
  for (int i = 0; i < 6; ++i) {
    at = message.find(' ', at) + 1;
  }
  return message.substr(at);
}

std::string error_of(const SyslogFormat& format) {
  Status status = validate_syslog_format(format);
  REQUIRE(status.code() == StatusCode::kInvalidArgument);
  return status.message();
}

}  // namespace

TEST_CASE("an event without fields gets the defaults and our SD element", "[syslog_writer]") {
  Scenario s;
  s.stream.fields = {{"service", "web"}};
  std::string out = "kept ";
  write_syslog_message(s.batch, s.event, s.format, out);
  REQUIRE(out ==
          "kept <13>1 2026-11-30T00:47:34.123456Z web-01 nginx - - [assas@32473 "
          "collector=\"nginx\" source=\"/var/log/nginx/error.log\" service=\"web\"] hello");
  REQUIRE(validate_syslog_format(s.format).is_ok());
}

TEST_CASE("the syslog collector's facility and severity names give the PRI", "[syslog_writer]") {
  std::string out = write_with({{"facility", "local3"}, {"severity", "warning"}});
  REQUIRE(pri_of(out) == "<156>");  // 19 * 8 + 4
  // Both went into PRI, so they are not params as well.
  REQUIRE(out.find("facility=") == std::string::npos);
  REQUIRE(out.find("severity=") == std::string::npos);

  REQUIRE(pri_of(write_with({{"facility", "kern"}, {"severity", "emerg"}})) == "<0>");
  REQUIRE(pri_of(write_with({{"facility", "solaris-cron"}, {"severity", "debug"}})) == "<127>");
  REQUIRE(pri_of(write_with({{"facility", "security"}, {"severity", "err"}})) == "<107>");
  REQUIRE(pri_of(write_with({{"facility", "LOCAL7"}, {"severity", "Info"}})) == "<190>");
}

TEST_CASE("journald PRIORITY and SYSLOG_FACILITY digits give the PRI", "[syslog_writer]") {
  std::string out = write_with({{"PRIORITY", "3"}, {"SYSLOG_FACILITY", "10"}});
  REQUIRE(pri_of(out) == "<83>");
  REQUIRE(out.find("PRIORITY=") == std::string::npos);
  REQUIRE(out.find("SYSLOG_FACILITY=") == std::string::npos);
  REQUIRE(pri_of(write_with({{"PRIORITY", "07"}})) == "<15>");
}

TEST_CASE("common severity aliases are understood case-insensitively", "[syslog_writer]") {
  REQUIRE(pri_of(write_with({{"severity", "panic"}})) == "<8>");
  REQUIRE(pri_of(write_with({{"severity", "critical"}})) == "<10>");
  REQUIRE(pri_of(write_with({{"severity", "ERROR"}})) == "<11>");
  REQUIRE(pri_of(write_with({{"severity", "Warn"}})) == "<12>");
}

TEST_CASE("configured severity names are understood and tried first", "[syslog_writer]") {
  Scenario s(Fields{{"severity", "FATAL"}});
  s.format.severity_names = {{"fatal", 2}, {"trace", 7}, {"info", 5}};
  REQUIRE(pri_of(s.write()) == "<10>");
  s.event.fields = {{"severity", "trace"}};
  REQUIRE(pri_of(s.write()) == "<15>");
  s.event.fields = {{"severity", "info"}};
  REQUIRE(pri_of(s.write()) == "<13>");
  // Without the configured name it is unknown.
  REQUIRE(pri_of(write_with({{"severity", "fatal"}})) == "<13>");
}

TEST_CASE("an unusable facility or severity falls through to the next field and the default",
          "[syslog_writer]") {
  std::string out = write_with({{"severity", "loud"}, {"PRIORITY", "4"}});
  REQUIRE(pri_of(out) == "<12>");
  // The unusable field was not consumed, so it stays as a param; the one used does not.
  REQUIRE(out.find("severity=\"loud\"") != std::string::npos);
  REQUIRE(out.find("PRIORITY=") == std::string::npos);

  for (std::string_view bad : {"8", "-1", "", "0004", "4 ", "+4", "notice!"}) {
    CAPTURE(bad);
    REQUIRE(pri_of(write_with({{"severity", bad}})) == "<13>");
  }
  for (std::string_view bad : {"24", "local8", "x", "", "1000"}) {
    CAPTURE(bad);
    REQUIRE(pri_of(write_with({{"facility", bad}, {"SYSLOG_FACILITY", "x"}})) == "<13>");
  }

  Scenario s(Fields{{"facility", "nope"}});
  s.format.facility = 16;
  s.format.severity = 6;
  REQUIRE(pri_of(s.write()) == "<134>");
}

TEST_CASE("field lists are tried in their own order not the event's", "[syslog_writer]") {
  REQUIRE(pri_of(write_with({{"PRIORITY", "2"}, {"severity", "info"}})) == "<14>");
  Scenario s(Fields{{"PRIORITY", "2"}, {"severity", "info"}});
  s.format.severity_fields = {"PRIORITY", "severity"};
  REQUIRE(pri_of(s.write()) == "<10>");
  s.format.severity_fields = {};
  REQUIRE(pri_of(s.write()) == "<13>");
}

TEST_CASE("a valid RFC 5424 timestamp field is copied as is", "[syslog_writer]") {
  for (std::string_view ts :
       {"2026-11-30T00:47:34Z", "2026-11-30T00:47:34.5-07:30", "2024-02-29T23:59:59.123456+00:00",
        "2026-12-31T23:59:59.000001+23:59", "2026-11-30T00:00:00.1Z"}) {
    CAPTURE(ts);
    std::string out = write_with({{"timestamp", ts}});
    REQUIRE(header_of(out)[0] == ts);
    REQUIRE(out.find("timestamp=") == std::string::npos);
  }
}

TEST_CASE("an RFC 3164 or otherwise invalid timestamp is refused in favour of the next field",
          "[syslog_writer]") {
  std::string out = write_with(
      {{"timestamp", "Nov 30 00:47:34"}, {"origin_time", "2026-11-30T21:39:19.000100Z"}});
  REQUIRE(header_of(out)[0] == "2026-11-30T21:39:19.000100Z");
  REQUIRE(out.find("timestamp=\"Nov 30 00:47:34\"") != std::string::npos);
  REQUIRE(out.find("origin_time=") == std::string::npos);

  for (std::string_view bad : {"Nov 30 00:47:34",
                               "Nov 30 2026 00:47:34",
                               "2026-02-29T00:00:00Z",
                               "2026-04-31T00:00:00Z",
                               "2026-13-01T00:00:00Z",
                               "2026-00-01T00:00:00Z",
                               "2026-11-00T00:00:00Z",
                               "2026-11-30T24:00:00Z",
                               "2026-11-30T23:60:00Z",
                               "2026-11-30T23:59:60Z",
                               "2026-11-30t00:47:34z",
                               "2026-11-30 00:47:34Z",
                               "2026-11-30T00:47:34",
                               "2026-11-30T00:47:34.1234567Z",
                               "2026-11-30T00:47:34.Z",
                               "2026-11-30T00:47:34+0100",
                               "2026-11-30T00:47:34+24:00",
                               "2026-11-30T00:47:34+01:60",
                               "2026-11-30T00:47:34Z ",
                               "2026-11-30T00:47:34+01:00x",
                               "2026-1-30T00:47:34Z",
                               "20a6-11-30T00:47:34Z",
                               "-",
                               ""}) {
    CAPTURE(bad);
    REQUIRE(header_of(write_with({{"timestamp", bad}}))[0] == kReadTime);
  }
}

TEST_CASE("the read time is written in UTC with microseconds", "[syslog_writer]") {
  Scenario s;
  REQUIRE(header_of(s.write())[0] == kReadTime);
  s.event.time_ns = 0;
  REQUIRE(header_of(s.write())[0] == "1970-01-01T00:00:00.000000Z");
  s.event.time_ns = -1;
  REQUIRE(header_of(s.write())[0] == "1969-12-31T23:59:59.999999Z");
  s.event.time_ns = 1709164800000999999;  // 2024-02-29, the fraction cut, not rounded
  REQUIRE(header_of(s.write())[0] == "2024-02-29T00:00:00.000999Z");
}

TEST_CASE("header strings come from fields then the format then the batch and stream",
          "[syslog_writer]") {
  std::string out = write_with({{"hostname", "db-02"},
                                {"appname", "postgres"},
                                {"procid", "4242"},
                                {"msgid", "CONN"},
                                {"user", "alice"}});
  REQUIRE(header_of(out) ==
          std::vector<std::string>{std::string(kReadTime), "db-02", "postgres", "4242", "CONN"});
  REQUIRE(after_header(out) ==
          "[assas@32473 collector=\"nginx\" source=\"/var/log/nginx/error.log\" user=\"alice\"] "
          "hello");

  std::string journal =
      write_with({{"_HOSTNAME", "gw-07"}, {"SYSLOG_IDENTIFIER", "sshd"}, {"_PID", "77"}});
  REQUIRE(header_of(journal) ==
          std::vector<std::string>{std::string(kReadTime), "gw-07", "sshd", "77", "-"});

  // An empty value is not usable: the next source is tried.
  Scenario s(Fields{{"hostname", ""}, {"appname", ""}});
  s.format.hostname = "edge";
  s.format.app_name = "assas";
  REQUIRE(header_of(s.write())[1] == "edge");
  REQUIRE(header_of(s.write())[2] == "assas");

  Scenario nil;
  nil.batch.host = "";
  nil.stream.collector = "";
  REQUIRE(header_of(nil.write()) ==
          std::vector<std::string>{std::string(kReadTime), "-", "-", "-", "-"});
}

TEST_CASE("header strings are sanitised to printable ASCII and cut to the RFC lengths",
          "[syslog_writer]") {
  std::string out = write_with({{"hostname", "web 01\x01\xC3\xA9"}, {"appname", "my app"}});
  REQUIRE(header_of(out)[1] == "web_01___");
  REQUIRE(header_of(out)[2] == "my_app");

  std::string long_out = write_with({{"hostname", std::string(300, 'h')},
                                     {"appname", std::string(60, 'a')},
                                     {"procid", std::string(200, 'p')},
                                     {"msgid", std::string(40, 'm')}});
  std::vector<std::string> header = header_of(long_out);
  REQUIRE(header[1] == std::string(255, 'h'));
  REQUIRE(header[2] == std::string(48, 'a'));
  REQUIRE(header[3] == std::string(128, 'p'));
  REQUIRE(header[4] == std::string(32, 'm'));
}

TEST_CASE("param values escape quote backslash and bracket", "[syslog_writer]") {
  std::string out = write_with({{"path", "a\"b\\c]d[e"}});
  REQUIRE(out.find(" path=\"a\\\"b\\\\c\\]d[e\"]") != std::string::npos);
}

TEST_CASE("param values replace bytes that are not UTF-8 and keep the rest", "[syslog_writer]") {
  auto value_of = [](std::string_view value) {
    std::string out = write_with({{"v", value}}, "");
    size_t start = out.find(" v=\"") + 4;
    return out.substr(start, out.size() - start - 2);  // without the closing "]
  };
  const std::string r = "\xEF\xBF\xBD";
  REQUIRE(value_of("ok\xFF") == "ok" + r);
  REQUIRE(value_of("\xC0\xAF") == r + r);                  // overlong '/'
  REQUIRE(value_of("\xED\xA0\x80") == r + r + r);          // a UTF-16 surrogate
  REQUIRE(value_of("\xE2\x82x") == r + r + "x");           // cut short
  REQUIRE(value_of("\xF4\x90\x80\x80") == r + r + r + r);  // above U+10FFFF
  REQUIRE(value_of("\x80") == r);
  REQUIRE(value_of("\xE2\x82\xAC \xF0\x9F\x98\x80 \xC3\xA9") ==
          "\xE2\x82\xAC \xF0\x9F\x98\x80 \xC3\xA9");
  REQUIRE(value_of(std::string_view("nul\0tab\tlf\n", 11)) == std::string("nul\0tab\tlf\n", 11));
}

TEST_CASE("param names are sanitised and cut and bookkeeping fields are left out",
          "[syslog_writer]") {
  std::string out = write_with({{"a b=c]\"d\xC3\xA9", "1"},
                                {std::string(40, 'n'), "2"},
                                {"", "3"},
                                {"format", "rfc3164"},
                                {"priority", "13"},
                                {"sd.origin.ip", "10.0.0.1"},
                                {"structured_data", "not sd"},
                                {"parse_error", "bad"}},
                               "");
  REQUIRE(after_header(out) == std::string(kOurs.substr(0, kOurs.size() - 1)) +
                                   " a_b_c__d__=\"1\" " + std::string(32, 'n') +
                                   "=\"2\" _=\"3\" parse_error=\"bad\"]");
}

TEST_CASE("a valid structured_data field is passed through before our element", "[syslog_writer]") {
  std::string sd =
      "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
      "[examplePriority@32473 class=\"high\"][origin]";
  REQUIRE(after_header(write_with({{"structured_data", sd}})) ==
          sd + std::string(kOurs) + " hello");

  // The RFC's escapes and a backslash before anything else are kept as they are.
  std::string escaped = "[x@1 a=\"q\\\"\\\\\\]\" path=\"C:\\dir\\n\" empty=\"\"]";
  REQUIRE(after_header(write_with({{"structured_data", escaped}})) ==
          escaped + std::string(kOurs) + " hello");

  Scenario no_ours(Fields{{"structured_data", sd}});
  no_ours.format.sd_id = "";
  REQUIRE(after_header(no_ours.write()) == sd + " hello");
}

TEST_CASE("a lax structured_data value is made valid on the way through", "[syslog_writer]") {
  REQUIRE(
      after_header(write_with({{"structured_data", "[x@1 a=\"b]c\" u=\"\xFF\xC3\xA9\"]"}}, "")) ==
      "[x@1 a=\"b\\]c\" u=\"\xEF\xBF\xBD\xC3\xA9\"]" + std::string(kOurs));
}

TEST_CASE("an invalid structured_data field is refused", "[syslog_writer]") {
  for (std::string_view bad : {"",
                               "-",
                               "x",
                               "[",
                               "[]",
                               "[x@1",
                               "[x@1 ",
                               "[x@1 a=1]",
                               "[x@1 a=\"1]",
                               "[x@1 a=\"1\"",
                               "[x@1  a=\"1\"]",
                               "[x@1 a=\"1\"] ",
                               " [x@1]",
                               "[x@1]junk",
                               "[x@1][x@1]",
                               "[x@1 =\"1\"]",
                               "[x@1 a =\"1\"]",
                               "[x@1 a=\"1\"b=\"2\"]",
                               "[x y]",
                               "[x=y]",
                               "[x@1\t a=\"1\"]",
                               "[x@1 a=\"1\"][]"}) {
    CAPTURE(bad);
    REQUIRE(after_header(write_with({{"structured_data", bad}})) == std::string(kOurs) + " hello");
  }
  std::string long_id = "[" + std::string(33, 'i') + "]";
  REQUIRE(after_header(write_with({{"structured_data", long_id}})) ==
          std::string(kOurs) + " hello");
  std::string long_name = "[x@1 " + std::string(33, 'p') + "=\"v\"]";
  REQUIRE(after_header(write_with({{"structured_data", long_name}})) ==
          std::string(kOurs) + " hello");
  std::string many;
  for (int i = 0; i < 40; ++i) {
    many += "[e" + std::to_string(i) + "@1]";
  }
  REQUIRE(after_header(write_with({{"structured_data", many}})) == std::string(kOurs) + " hello");
}

TEST_CASE("passed-through SD with our SD-ID is dropped so that ours is the only one",
          "[syslog_writer]") {
  std::string sd = "[other@1 b=\"2\"][assas@32473 a=\"1\"]";
  REQUIRE(after_header(write_with({{"structured_data", sd}})) == std::string(kOurs) + " hello");
  Scenario no_ours(Fields{{"structured_data", sd}});
  no_ours.format.sd_id = "";
  REQUIRE(after_header(no_ours.write()) == sd + " hello");
}

TEST_CASE("without our element or passthrough the SD is NILVALUE", "[syslog_writer]") {
  Scenario s(Fields{{"structured_data", "bad"}, {"user", "alice"}});
  s.format.sd_id = "";
  REQUIRE(after_header(s.write()) == "- hello");
  s.event.message = "";
  REQUIRE(s.write().ends_with(" - -"));
}

TEST_CASE("an RFC 5424 message from the syslog collector is relayed unchanged", "[syslog_writer]") {
  std::string original =
      "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
      "[exampleSDID@32473 iut=\"3\"] \xEF\xBB\xBF"
      "An application event";
  std::vector<FieldView> fields = {{"format", "rfc5424"},
                                   {"priority", "165"},
                                   {"facility", "local4"},
                                   {"severity", "notice"},
                                   {"timestamp", "2003-10-11T22:14:15.003Z"},
                                   {"hostname", "mymachine.example.com"},
                                   {"appname", "evntslog"},
                                   {"msgid", "ID47"},
                                   {"structured_data", "[exampleSDID@32473 iut=\"3\"]"},
                                   {"sd.exampleSDID@32473.iut", "3"}};
  REQUIRE(write_with(fields, original) == original);

  // The trailer of a previous frame that the collector skipped is not relayed.
  std::string with_trailer = std::string("\xEF\xBB\xBF\r\n\0 \t", 8) + original;
  REQUIRE(write_with(fields, with_trailer) == original);

  // Switched off, the event is formatted like any other, its SD passed through.
  Scenario s(fields, original);
  s.format.relay_rfc5424 = false;
  REQUIRE(s.write() ==
          "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
          "[exampleSDID@32473 iut=\"3\"]" +
              std::string(kOurs) + " " + original);
}

TEST_CASE("a syslog message with a parse_error or another format is not relayed",
          "[syslog_writer]") {
  std::string original = "<165>2 bad version";
  std::string out = write_with(
      {{"format", "rfc5424"}, {"priority", "165"}, {"parse_error", "bad version"}}, original);
  REQUIRE(pri_of(out) == "<13>");
  REQUIRE(out.ends_with("parse_error=\"bad version\"] " + original));

  std::string bsd = "<13>Nov 30 00:47:34 host app: text";
  REQUIRE(write_with({{"format", "rfc3164"}}, bsd) != bsd);
  REQUIRE(write_with({{"format", "rfc5424"}}, "no pri") != "no pri");
}

TEST_CASE("the BOM precedes MSG only when asked and the message is UTF-8", "[syslog_writer]") {
  Scenario s({}, "caf\xC3\xA9");
  REQUIRE(s.write().ends_with("] caf\xC3\xA9"));
  s.format.bom = true;
  REQUIRE(
      s.write().ends_with("] \xEF\xBB\xBF"
                          "caf\xC3\xA9"));
  s.event.message = "caf\xE9";
  REQUIRE(s.write().ends_with("] caf\xE9"));
  s.event.message = "\xEF\xBB\xBFhas one";
  REQUIRE(s.write().ends_with("] \xEF\xBB\xBFhas one"));
}

TEST_CASE("an empty message ends the message after the SD without a space", "[syslog_writer]") {
  Scenario s({}, "");
  s.format.bom = true;
  REQUIRE(s.write().ends_with(std::string(kOurs)));
  // The message bytes are copied unchanged, whatever they hold.
  std::string binary("a\0b\r\n\xFF", 6);
  REQUIRE(write_with({}, binary).ends_with("] " + binary));
}

TEST_CASE("validate_syslog_format accepts the defaults and registered names", "[syslog_writer]") {
  SyslogFormat format;
  REQUIRE(validate_syslog_format(format).is_ok());
  for (std::string_view id : std::initializer_list<std::string_view>{
           "origin", "timeQuality", "x@1", "", "a@123456789012345678901234567890"}) {
    CAPTURE(id);
    format.sd_id = id;
    REQUIRE(validate_syslog_format(format).is_ok());
  }
  format.facility = 23;
  format.severity = 0;
  format.severity_names = {{"fatal", 2}};
  format.hostname = std::string(255, 'h');
  format.app_name = std::string(48, 'a');
  REQUIRE(validate_syslog_format(format).is_ok());
}

TEST_CASE("validate_syslog_format names the key that is wrong", "[syslog_writer]") {
  SyslogFormat format;
  format.facility = 24;
  REQUIRE(error_of(format).starts_with("facility: 24"));
  format.facility = -1;
  REQUIRE(error_of(format).starts_with("facility: -1"));

  format = {};
  format.severity = 8;
  REQUIRE(error_of(format).starts_with("severity: 8"));

  format = {};
  format.severity_names = {{"fatal", 9}};
  REQUIRE(error_of(format).starts_with("severity_names: 'fatal' maps to 9"));
  format.severity_names = {{"", 1}};
  REQUIRE(error_of(format).starts_with("severity_names:"));

  for (std::string_view id :
       std::initializer_list<std::string_view>{"bad id", "a@b", "@1", "x@", "a@1@2", "a=b", "a]",
                                               "a\"b", "a@1234567890123456789012345678901"}) {
    CAPTURE(id);
    format = {};
    format.sd_id = id;
    REQUIRE(error_of(format).starts_with("sd_id: '" + std::string(id) + "'"));
  }

  format = {};
  format.hostname = "has space";
  REQUIRE(error_of(format).starts_with("hostname: 'has space'"));
  format = {};
  format.app_name = std::string(49, 'a');
  REQUIRE(error_of(format).starts_with("app_name:"));
  format = {};
  format.timestamp_fields = {"timestamp", ""};
  REQUIRE(error_of(format) == "timestamp_fields: a field name is empty");
}

}  // namespace assas::transport

TEST_CASE("facility and severity codes are read as the config gives them") {
  CHECK(assas::transport::syslog_facility_code("local4") == 20);
  CHECK(assas::transport::syslog_facility_code("16") == 16);
  CHECK(assas::transport::syslog_facility_code("24") == -1);
  CHECK(assas::transport::syslog_severity_code("warn", {}) == 4);
  CHECK(assas::transport::syslog_severity_code("crit", {}) == 2);
  CHECK(assas::transport::syslog_severity_code("8", {}) == -1);
  CHECK(assas::transport::syslog_severity_code("loud", {}) == -1);
}
