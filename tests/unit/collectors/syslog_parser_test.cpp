// The syslog parser: real RFC 5424 and RFC 3164 samples, every error path, and random or mutated
// bytes, which must never crash it or leave a field pointing outside the message or its storage.
// The random cases print their seed; ASSAS_TEST_SEED replays one.

#include "collectors/syslog/syslog_parser.h"

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace assas::collectors {
namespace {

using namespace std::string_literals;

// "name=value" lines, so that a failure shows every field.
std::string render(const SyslogParse& parse) {
  std::string text;
  for (const agent::FieldView& field : parse.fields) {
    text.append(field.first).append("=").append(field.second).append("\n");
  }
  return text;
}

std::string parsed(std::string_view message) {
  SyslogParse parse;
  parse_syslog(message, parse);
  return render(parse);
}

std::string value_of(const SyslogParse& parse, std::string_view name) {
  for (const agent::FieldView& field : parse.fields) {
    if (field.first == name) {
      return std::string(field.second);
    }
  }
  return "<absent>";
}

std::string error_of(std::string_view message) {
  SyslogParse parse;
  parse_syslog(message, parse);
  return value_of(parse, "parse_error");
}

bool inside(std::string_view view, std::string_view range) {
  return view.data() >= range.data() && view.data() + view.size() <= range.data() + range.size();
}

// What every parse must hold, whatever the input.
void check_invariants(std::string_view message, const SyslogParse& parse) {
  size_t errors = 0;
  for (size_t k = 0; k < parse.fields.size(); ++k) {
    const agent::FieldView& field = parse.fields[k];
    REQUIRE_FALSE(field.first.empty());
    if (field.first == "parse_error") {
      ++errors;
      REQUIRE(k + 1 == parse.fields.size());
    }
    if (field.first.substr(0, 3) == "sd.") {
      bool owned = false;
      for (const std::string& s : parse.owned) {
        owned = owned || inside(field.first, s);
      }
      REQUIRE(owned);
    }
    bool in_owned = false;
    for (const std::string& s : parse.owned) {
      in_owned = in_owned || inside(field.second, s);
    }
    bool is_static = field.first == "format" || field.first == "facility" ||
                     field.first == "severity" || field.first == "parse_error";
    REQUIRE((is_static || in_owned || inside(field.second, message)));
    REQUIRE(std::string(field.second).size() == field.second.size());  // readable (ASan)
  }
  REQUIRE(errors <= 1);
  REQUIRE(parse.ok() == (errors == 0));
  REQUIRE(value_of(parse, "format") == (parse.format.empty() ? "<absent>" : parse.format));
  REQUIRE(parse.fields.size() <= 12 + kMaxSdFields);
}

uint64_t test_seed() {
  const char* env = std::getenv("ASSAS_TEST_SEED");  // NOLINT(concurrency-mt-unsafe): no threads
  return env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device{}();
}

// Samples split over lines are named, so that their parts cannot be mistaken for list items.
const std::string kLogger5424 =
    "<13>1 2026-11-29T21:39:19.123456+00:00 host user - - [timeQuality tzKnown=\"1\" "
    "isSynced=\"0\"] hello";
const std::string kRfc5424Example =
    "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 "
    "iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][examplePriority@32473 "
    "class=\"high\"] \xEF\xBB\xBF"
    "An application event";

const std::vector<std::string> kSamples = {
    kLogger5424,
    "<13>Nov 29 21:39:19 host user: hello",
    "<13>1 2026-11-29T21:39:19.123+00:00 web01 nginx 4242 - -  GET /",
    "<13>2026-11-29T21:39:19.123+00:00 host tag: msg",
    "<189>52: *Mar  1 00:01:02.345: %SYS-5-CONFIG_I: Configured",
    "<166>Nov 29 2026 21:39:19: %ASA-6-302013: Built",
    "<189>date=2026-11-29 time=21:39:19 devname=\"FGT60E\" logid=\"0000000013\"",
    kRfc5424Example,
    "<34>1 2003-10-11T22:14:15.003Z host app - - [a v=\"x\\]y\\\"z\\\\w\\q\"]",
    "<13>Nov  1 02:03:04 host sshd[123]: msg",
};

}  // namespace

TEST_CASE("logger --rfc5424 messages give the header and the SD params as fields", "[syslog]") {
  SyslogParse parse;
  parse_syslog(kSamples[0], parse);
  REQUIRE(render(parse) ==
          "format=rfc5424\npriority=13\nfacility=user\nseverity=notice\n"
          "timestamp=2026-11-29T21:39:19.123456+00:00\nhostname=host\nappname=user\n"
          "structured_data=[timeQuality tzKnown=\"1\" isSynced=\"0\"]\n"
          "sd.timeQuality.tzKnown=1\nsd.timeQuality.isSynced=0\n");
  REQUIRE(parse.ok());
  REQUIRE(parse.format == "rfc5424");
}

TEST_CASE("logger --rfc3164 messages give timestamp hostname and tag", "[syslog]") {
  SyslogParse parse;
  parse_syslog(kSamples[1], parse);
  REQUIRE(render(parse) ==
          "format=rfc3164\npriority=13\nfacility=user\nseverity=notice\n"
          "timestamp=Nov 29 21:39:19\nhostname=host\nappname=user\n");
  REQUIRE(parse.ok());
  REQUIRE(parse.format == "rfc3164");
}

TEST_CASE("rsyslog protocol-23 format is read as RFC 5424", "[syslog]") {
  REQUIRE(parsed(kSamples[2]) ==
          "format=rfc5424\npriority=13\nfacility=user\nseverity=notice\n"
          "timestamp=2026-11-29T21:39:19.123+00:00\nhostname=web01\nappname=nginx\nprocid=4242\n");
}

TEST_CASE("rsyslog forward format with an RFC 3339 timestamp is read as RFC 3164", "[syslog]") {
  REQUIRE(parsed(kSamples[3]) ==
          "format=rfc3164\npriority=13\nfacility=user\nseverity=notice\n"
          "timestamp=2026-11-29T21:39:19.123+00:00\nhostname=host\nappname=tag\n");
}

TEST_CASE("Cisco sequence numbers and starred timestamps are skipped to the mnemonic", "[syslog]") {
  REQUIRE(parsed(kSamples[4]) ==
          "format=rfc3164\npriority=189\nfacility=local7\nseverity=notice\n"
          "timestamp=Mar  1 00:01:02.345\nappname=%SYS-5-CONFIG_I\n");
}

TEST_CASE("an RFC 3164 hostname or tag of - is omitted as in RFC 5424", "[syslog]") {
  // Found by the syslog_parse fuzz target: the header promises no "-" values.
  REQUIRE(parsed("<13>Nov 29 21:39:19 - app[12]: msg") ==
          "format=rfc3164\npriority=13\nfacility=user\nseverity=notice\n"
          "timestamp=Nov 29 21:39:19\nappname=app\nprocid=12\n");
  REQUIRE(parsed("<14>-: m") == "format=rfc3164\npriority=14\nfacility=user\nseverity=info\n");
  REQUIRE(parsed("<14>-[-]: m") == "format=rfc3164\npriority=14\nfacility=user\nseverity=info\n");
}

TEST_CASE("a Cisco sequence number without a timestamp is not taken for a tag", "[syslog]") {
  REQUIRE(parsed("<189>52: %SYS-5-CONFIG_I: Configured") ==
          "format=rfc3164\npriority=189\nfacility=local7\nseverity=notice\n"
          "appname=%SYS-5-CONFIG_I\n");
  REQUIRE(parsed("<189>52: .Mar  1 00:01:02: %SYS-5-CONFIG_I: Configured") ==
          "format=rfc3164\npriority=189\nfacility=local7\nseverity=notice\n"
          "timestamp=Mar  1 00:01:02\nappname=%SYS-5-CONFIG_I\n");
}

TEST_CASE("Cisco ASA timestamps with a year before the time are read", "[syslog]") {
  REQUIRE(parsed(kSamples[5]) ==
          "format=rfc3164\npriority=166\nfacility=local4\nseverity=info\n"
          "timestamp=Nov 29 2026 21:39:19\nappname=%ASA-6-302013\n");
}

TEST_CASE("key=value messages without a header give only the priority fields", "[syslog]") {
  REQUIRE(parsed(kSamples[6]) ==
          "format=rfc3164\npriority=189\nfacility=local7\nseverity=notice\n");
}

TEST_CASE("the RFC 5424 example with two SD elements and a BOM in MSG", "[syslog]") {
  REQUIRE(parsed(kSamples[7]) ==
          "format=rfc5424\npriority=165\nfacility=local4\nseverity=notice\n"
          "timestamp=2003-10-11T22:14:15.003Z\nhostname=mymachine.example.com\n"
          "appname=evntslog\nmsgid=ID47\n"
          "structured_data=[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" "
          "eventID=\"1011\"][examplePriority@32473 class=\"high\"]\n"
          "sd.exampleSDID@32473.iut=3\nsd.exampleSDID@32473.eventSource=Application\n"
          "sd.exampleSDID@32473.eventID=1011\nsd.examplePriority@32473.class=high\n");
}

TEST_CASE("every PRI from 0 to 191 names its facility and severity", "[syslog]") {
  const std::vector<std::string> facilities = {
      "kern",   "user",   "mail",     "daemon", "auth",   "syslog",   "lpr",     "news",
      "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "security", "console", "solaris-cron",
      "local0", "local1", "local2",   "local3", "local4", "local5",   "local6",  "local7"};
  const std::vector<std::string> severities = {"emerg",   "alert",  "crit", "err",
                                               "warning", "notice", "info", "debug"};
  for (int pri = 0; pri <= 191; ++pri) {
    CAPTURE(pri);
    SyslogParse parse;
    std::string message = "<" + std::to_string(pri) + ">x";
    parse_syslog(message, parse);
    REQUIRE(parse.ok());
    REQUIRE(value_of(parse, "priority") == std::to_string(pri));
    REQUIRE(value_of(parse, "facility") == facilities[static_cast<size_t>(pri / 8)]);
    REQUIRE(value_of(parse, "severity") == severities[static_cast<size_t>(pri % 8)]);
  }
}

TEST_CASE("a PRI with leading zeros is given without them", "[syslog]") {
  SyslogParse parse;
  parse_syslog("<013>x", parse);
  REQUIRE(value_of(parse, "priority") == "13");
  parse_syslog("<000>x", parse);
  REQUIRE(value_of(parse, "priority") == "0");
  REQUIRE(value_of(parse, "facility") == "kern");
}

TEST_CASE("messages without a valid PRI get only a parse_error", "[syslog]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty message"},
      {"<", "unterminated <PRI>"},
      {"<13", "unterminated <PRI>"},
      {"<999>", "PRI above 191"},
      {"<192>x", "PRI above 191"},
      {"<>", "bad <PRI>"},
      {"<a>", "bad <PRI>"},
      {"<-1>", "bad <PRI>"},
      {"<1234>", "bad <PRI>"},
      {"<13 >", "bad <PRI>"},
      {"hello <13>", "no <PRI> at the start"},
      {"\0\0\0"s, "no <PRI> at the start"},
      {"   ", "no <PRI> at the start"},
  };
  for (const auto& [message, reason] : cases) {
    CAPTURE(message);
    SyslogParse parse;
    parse_syslog(message, parse);
    REQUIRE(render(parse) == "parse_error=" + reason + "\n");
    REQUIRE_FALSE(parse.ok());
    REQUIRE(parse.format.empty());
  }
}

TEST_CASE("a PRI followed by nothing recognisable is RFC 3164 with the priority only", "[syslog]") {
  for (const std::string& message :
       {"<13>"s, "<13>\0\xff\x01"s, "<13>hello world"s, "<13>Nov 29 21:39:19x host app: m"s,
        "<13> "s, "<13>0 x"s, "<13>2026 x"s, "<13>Foo 29 21:39:19 host app: m"s}) {
    CAPTURE(message);
    REQUIRE(parsed(message) == "format=rfc3164\npriority=13\nfacility=user\nseverity=notice\n");
  }
}

TEST_CASE("an RFC 5424 version other than 1 is a parse error after the priority", "[syslog]") {
  for (const std::string& message :
       {"<13>2 2026-11-29T21:39:19Z h a p m -"s, "<13>12 x"s, "<13>999"s}) {
    CAPTURE(message);
    SyslogParse parse;
    parse_syslog(message, parse);
    REQUIRE(
        render(parse) ==
        "priority=13\nfacility=user\nseverity=notice\nparse_error=unsupported syslog version\n");
    REQUIRE(parse.format.empty());
  }
}

TEST_CASE("a truncated RFC 5424 header is a parse error naming what is missing", "[syslog]") {
  const std::string full = "<13>1 2026-11-29T21:39:19Z host app 42 ID7 - msg";
  const std::vector<std::pair<size_t, std::string>> cases = {
      {5, "header ends before TIMESTAMP"},  // "<13>1"
      {6, "header ends before TIMESTAMP"},  // "<13>1 "
      {26, "header ends before HOSTNAME"}, {27, "header ends before HOSTNAME"},
      {32, "header ends before APP-NAME"}, {36, "header ends before PROCID"},
      {39, "header ends before MSGID"},
  };
  for (const auto& [length, reason] : cases) {
    std::string message = full.substr(0, length);
    CAPTURE(message);
    SyslogParse parse;
    parse_syslog(message, parse);
    REQUIRE(value_of(parse, "parse_error") == reason);
    REQUIRE(parse.format == "rfc5424");
    REQUIRE(value_of(parse, "priority") == "13");
  }
  SyslogParse parse;
  std::string upto_procid = full.substr(0, 36);
  parse_syslog(upto_procid, parse);
  REQUIRE(render(parse) ==
          "format=rfc5424\npriority=13\nfacility=user\nseverity=notice\n"
          "timestamp=2026-11-29T21:39:19Z\nhostname=host\nappname=app\n"
          "parse_error=header ends before PROCID\n");
}

TEST_CASE("bad RFC 5424 header fields are parse errors after the fields before them", "[syslog]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"<13>1 yesterday h a p m -", "bad TIMESTAMP"},
      {"<13>1 2026-13-29T21:39:19Z h a p m -", "bad TIMESTAMP"},
      {"<13>1 2026-11-29T25:39:19Z h a p m -", "bad TIMESTAMP"},
      {"<13>1 2026-11-29T21:39:19 h a p m -", "bad TIMESTAMP"},
      {"<13>1 2026-11-29T21:39:19.1234567890Z h a p m -", "bad TIMESTAMP"},
      {"<13>1 2026-11-29T21:39:19+01:0 h a p m -", "bad TIMESTAMP"},
      {"<13>1  h a p m -", "bad TIMESTAMP"},
      {"<13>1 - " + std::string(256, 'h') + " a p m -", "bad HOSTNAME"},
      {"<13>1 - h\x01 a p m -", "bad HOSTNAME"},
      {"<13>1 - h " + std::string(49, 'a') + " p m -", "bad APP-NAME"},
      {"<13>1 - h a  m -", "bad PROCID"},
      {"<13>1 - h a " + std::string(129, 'p') + " m -", "bad PROCID"},
      {"<13>1 - h a p " + std::string(33, 'm') + " -", "bad MSGID"},
      {"<13>1 - h a p m\xc3\xa9 -", "bad MSGID"},
  };
  for (const auto& [message, reason] : cases) {
    CAPTURE(message);
    SyslogParse parse;
    parse_syslog(message, parse);
    REQUIRE(value_of(parse, "parse_error") == reason);
    REQUIRE(parse.fields.back().first == "parse_error");
    check_invariants(message, parse);
  }
  REQUIRE(parsed("<13>1 - host " + std::string(49, 'a') + " p m -") ==
          "format=rfc5424\npriority=13\nfacility=user\nseverity=notice\nhostname=host\n"
          "parse_error=bad APP-NAME\n");
}

TEST_CASE("the longest RFC 5424 header fields allowed are accepted", "[syslog]") {
  std::string message = "<13>1 2026-11-29T21:39:19.123456789-05:30 " + std::string(255, 'h') + " " +
                        std::string(48, 'a') + " " + std::string(128, 'p') + " " +
                        std::string(32, 'm') + " -";
  SyslogParse parse;
  parse_syslog(message, parse);
  REQUIRE(parse.ok());
  REQUIRE(value_of(parse, "timestamp") == "2026-11-29T21:39:19.123456789-05:30");
  REQUIRE(value_of(parse, "hostname").size() == 255);
  REQUIRE(value_of(parse, "msgid").size() == 32);
}

TEST_CASE("NILVALUE header fields are omitted", "[syslog]") {
  REQUIRE(parsed("<14>1 - - - - - -") ==
          "format=rfc5424\npriority=14\nfacility=user\nseverity=info\n");
  REQUIRE(parsed("<14>1 - - - - - - message") ==
          "format=rfc5424\npriority=14\nfacility=user\nseverity=info\n");
}

TEST_CASE("a message may end right after MSGID or after the SD", "[syslog]") {
  for (const std::string& message :
       {"<14>1 - h a p m"s, "<14>1 - h a p m "s, "<14>1 - h a p m -"s, "<14>1 - h a p m - "s}) {
    CAPTURE(message);
    REQUIRE(parsed(message) ==
            "format=rfc5424\npriority=14\nfacility=user\nseverity=info\nhostname=h\n"
            "appname=a\nprocid=p\nmsgid=m\n");
  }
  SyslogParse parse;
  parse_syslog("<14>1 - h a p m [x a=\"1\"]", parse);
  REQUIRE(parse.ok());
  REQUIRE(value_of(parse, "sd.x.a") == "1");
}

TEST_CASE("SD values have their escapes undone and other backslashes kept", "[syslog]") {
  SyslogParse parse;
  parse_syslog(kSamples[8], parse);
  REQUIRE(parse.ok());
  REQUIRE(value_of(parse, "sd.a.v") == "x]y\"z\\w\\q");
  REQUIRE(value_of(parse, "structured_data") == "[a v=\"x\\]y\\\"z\\\\w\\q\"]");
  parse_syslog("<14>1 - - - - - [a v=\"\\\\\" w=\"\"]", parse);
  REQUIRE(value_of(parse, "sd.a.v") == "\\");
  REQUIRE(value_of(parse, "sd.a.w") == "");
}

TEST_CASE("an unescaped bracket inside a quoted SD value is accepted", "[syslog]") {
  SyslogParse parse;
  parse_syslog("<14>1 - - - - - [a v=\"x]y\"] msg", parse);
  REQUIRE(parse.ok());
  REQUIRE(value_of(parse, "sd.a.v") == "x]y");
}

TEST_CASE("the first of repeated SD param names wins", "[syslog]") {
  SyslogParse parse;
  parse_syslog("<14>1 - - - - - [a x=\"1\" x=\"2\" y=\"3\"][a x=\"4\"][b x=\"5\"]", parse);
  REQUIRE(parse.ok());
  REQUIRE(render(parse) ==
          "format=rfc5424\npriority=14\nfacility=user\nseverity=info\n"
          "structured_data=[a x=\"1\" x=\"2\" y=\"3\"][a x=\"4\"][b x=\"5\"]\n"
          "sd.a.x=1\nsd.a.y=3\nsd.b.x=5\n");
}

TEST_CASE("SD elements without params are accepted", "[syslog]") {
  REQUIRE(parsed("<14>1 - - - - - [origin][meta x=\"1\"]") ==
          "format=rfc5424\npriority=14\nfacility=user\nseverity=info\n"
          "structured_data=[origin][meta x=\"1\"]\nsd.meta.x=1\n");
}

TEST_CASE("truncated or malformed SD is a parse error that keeps the params read", "[syslog]") {
  const std::string head = "<14>1 - h - - - ";
  const std::string header_fields =
      "format=rfc5424\npriority=14\nfacility=user\nseverity=info\nhostname=h\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[", "parse_error=unterminated SD element\n"},
      {"[a", "parse_error=unterminated SD element\n"},
      {"[a ", "parse_error=unterminated SD element\n"},
      {"[a x", "parse_error=unterminated SD element\n"},
      {"[a x=", "parse_error=unterminated SD element\n"},
      {"[a x=\"1", "parse_error=unterminated SD element\n"},
      {"[a x=\"1\\\"", "parse_error=unterminated SD element\n"},
      {"[a x=\"1\"", "sd.a.x=1\nparse_error=unterminated SD element\n"},
      {"[a x=\"1\" y=\"2", "sd.a.x=1\nparse_error=unterminated SD element\n"},
      {"[a x=\"1\"][b", "sd.a.x=1\nparse_error=unterminated SD element\n"},
      {"[]", "parse_error=bad SD-ID\n"},
      {"[" + std::string(33, 'i') + "]", "parse_error=bad SD-ID\n"},
      {"[a x]", "parse_error=bad SD-PARAM\n"},
      {"[a x=1]", "parse_error=bad SD-PARAM\n"},
      {"[a =\"1\"]", "parse_error=bad SD-PARAM\n"},
      {"[a  x=\"1\"]", "parse_error=bad SD-PARAM\n"},
      {"[a x=\"1\"y=\"2\"]", "sd.a.x=1\nparse_error=bad SD-PARAM\n"},
      {"[a " + std::string(33, 'x') + "=\"1\"]", "parse_error=bad SD-PARAM\n"},
      {"x", "parse_error=bad STRUCTURED-DATA\n"},
      {"[a]x", "parse_error=no SP after STRUCTURED-DATA\n"},
      {"-x", "parse_error=no SP after STRUCTURED-DATA\n"},
  };
  for (const auto& [sd, expected] : cases) {
    std::string message = head + sd;
    CAPTURE(message);
    SyslogParse parse;
    parse_syslog(message, parse);
    std::string want = header_fields + expected;
    if (sd == "[a]x") {
      want = header_fields;
      want += "structured_data=[a]\n" + expected;
    }
    REQUIRE(render(parse) == want);
    check_invariants(message, parse);
  }
}

TEST_CASE("RFC 3164 day padding and fractional seconds and years are accepted", "[syslog]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"<13>Nov  1 02:03:04 host app: m", "Nov  1 02:03:04"},
      {"<13>Nov 1 02:03:04 host app: m", "Nov 1 02:03:04"},
      {"<13>Nov 29 21:39:19.123456 host app: m", "Nov 29 21:39:19.123456"},
      {"<13>Nov 29 2026 21:39:19 host app: m", "Nov 29 2026 21:39:19"},
      {"<13>Nov 29 2026 21:39:19.5 host app: m", "Nov 29 2026 21:39:19.5"},
      {"<13>2026-11-29T21:39:19Z host app: m", "2026-11-29T21:39:19Z"},
  };
  for (const auto& [message, timestamp] : cases) {
    CAPTURE(message);
    SyslogParse parse;
    parse_syslog(message, parse);
    REQUIRE(value_of(parse, "timestamp") == timestamp);
    REQUIRE(value_of(parse, "hostname") == "host");
    REQUIRE(value_of(parse, "appname") == "app");
  }
}

TEST_CASE("an RFC 3164 message without hostname has the tag right after the timestamp",
          "[syslog]") {
  REQUIRE(parsed("<13>Nov 29 21:39:19 sshd[123]: Accepted") ==
          "format=rfc3164\npriority=13\nfacility=user\nseverity=notice\n"
          "timestamp=Nov 29 21:39:19\nappname=sshd\nprocid=123\n");
  REQUIRE(parsed("<13>Nov 29 21:39:19 su: failed") ==
          "format=rfc3164\npriority=13\nfacility=user\nseverity=notice\n"
          "timestamp=Nov 29 21:39:19\nappname=su\n");
}

TEST_CASE("RFC 3164 tags with and without PID and colon", "[syslog]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"sshd[123]: m", "appname=sshd\nprocid=123\n"},
      {"sshd[123] m", "appname=sshd\nprocid=123\n"},
      {"kernel: m", "appname=kernel\n"},
      {"kernel:", "appname=kernel\n"},
      {"CRON[1]:", "appname=CRON\nprocid=1\n"},
      {"kernel m", ""},
      {"a:b: m", ""},
      {"sshd[]: m", ""},
      {"sshd[12: m", ""},
      {"sshd[1]x: m", ""},
      {": m", ""},
      {std::string(48, 't') + ": m", "appname=" + std::string(48, 't') + "\n"},
      {std::string(49, 't') + ": m", ""},
      {"t[" + std::string(129, '1') + "]: m", ""},
  };
  for (const auto& [tag, expected] : cases) {
    std::string message = "<13>Nov 29 21:39:19 host " + tag;
    CAPTURE(message);
    REQUIRE(parsed(message) ==
            "format=rfc3164\npriority=13\nfacility=user\nseverity=notice\n"
            "timestamp=Nov 29 21:39:19\nhostname=host\n" +
                expected);
  }
}

TEST_CASE("an overlong tag right after the timestamp is no hostname and no appname", "[syslog]") {
  REQUIRE(parsed("<13>Nov 29 21:39:19 " + std::string(49, 't') + ": m") ==
          "format=rfc3164\npriority=13\nfacility=user\nseverity=notice\n"
          "timestamp=Nov 29 21:39:19\n");
}

TEST_CASE("RFC 3164 without a timestamp still finds a leading tag", "[syslog]") {
  REQUIRE(parsed("<13>app[7]: hello") ==
          "format=rfc3164\npriority=13\nfacility=user\nseverity=notice\nappname=app\nprocid=7\n");
  REQUIRE(parsed("<13>host app: hello") ==
          "format=rfc3164\npriority=13\nfacility=user\nseverity=notice\n");
  REQUIRE(parsed("<13>time=21:39:19 x") ==
          "format=rfc3164\npriority=13\nfacility=user\nseverity=notice\n");
}

TEST_CASE("a BOM and leading whitespace or NUL before the PRI are skipped", "[syslog]") {
  for (const std::string& prefix : {"\xEF\xBB\xBF"s, " "s, "\r\n"s, "\0\0"s, "\xEF\xBB\xBF \t"s}) {
    std::string message = prefix + kSamples[1];
    CAPTURE(message);
    REQUIRE(parsed(message) == parsed(kSamples[1]));
  }
  REQUIRE(error_of("x\xEF\xBB\xBF<13>x") == "no <PRI> at the start");
  REQUIRE(error_of(" \xEF\xBB\xBF<13>x") == "no <PRI> at the start");  // a BOM comes first
}

TEST_CASE("binary bytes in the message do not disturb the header", "[syslog]") {
  std::string message = "<13>Nov 29 21:39:19 host app: a\0b\xff\x01"s;
  REQUIRE(parsed(message) == parsed("<13>Nov 29 21:39:19 host app: x"));
  std::string sd = "<13>1 - - - - - [a v=\"\0\xff\"] \0"s;
  SyslogParse parse;
  parse_syslog(sd, parse);
  REQUIRE(parse.ok());
  REQUIRE(value_of(parse, "sd.a.v") == "\0\xff"s);
}

TEST_CASE("at most kMaxSdFields sd fields are emitted but the whole SD is checked", "[syslog]") {
  std::string sd;
  for (size_t k = 0; k < kMaxSdFields + 50; ++k) {
    sd += " p" + std::to_string(k) + "=\"v\"";
  }
  std::string message = "<13>1 - - - - - [a" + sd + "]";
  SyslogParse parse;
  parse_syslog(message, parse);
  REQUIRE(parse.ok());
  REQUIRE(parse.fields.size() == 4 + 1 + kMaxSdFields);
  REQUIRE(value_of(parse, "sd.a.p0") == "v");
  REQUIRE(value_of(parse, "sd.a.p" + std::to_string(kMaxSdFields)) == "<absent>");
  std::string bad = "<13>1 - - - - - [a" + sd + " bad]";
  parse_syslog(bad, parse);
  REQUIRE(value_of(parse, "parse_error") == "bad SD-PARAM");
}

TEST_CASE("a parse result stays valid when moved and is cleared by the next parse", "[syslog]") {
  const std::string& message = kSamples[8];
  SyslogParse first;
  parse_syslog(message, first);
  SyslogParse moved = std::move(first);
  REQUIRE(value_of(moved, "sd.a.v") == "x]y\"z\\w\\q");
  check_invariants(message, moved);
  parse_syslog("<", moved);
  REQUIRE(render(moved) == "parse_error=unterminated <PRI>\n");
  REQUIRE(moved.owned.empty());
  REQUIRE(moved.format.empty());
}

TEST_CASE("every prefix of the samples parses without harm", "[syslog]") {
  for (const std::string& sample : kSamples) {
    for (size_t length = 0; length <= sample.size(); ++length) {
      // A copy of exactly that size, so that ASan sees any read past it.
      std::string message = sample.substr(0, length);
      CAPTURE(message);
      SyslogParse parse;
      parse_syslog(message, parse);
      check_invariants(message, parse);
    }
  }
}

TEST_CASE("random and mutated messages never crash and fields point to valid memory", "[syslog]") {
  uint64_t seed = test_seed();
  INFO("seed " << seed << " (replay with ASSAS_TEST_SEED=" << seed << ")");
  std::mt19937_64 rng(seed);
  auto pick = [&](size_t lo, size_t hi) {
    return std::uniform_int_distribution<size_t>(lo, hi)(rng);
  };
  const std::string alphabet = "<>[]=\"\\ -:.0123456789TZ+abcSDNov\0\xff\r\n"s;
  SyslogParse parse;
  for (int round = 0; round < 20000; ++round) {
    std::string message;
    if (round % 2 == 0) {
      message = kSamples[pick(0, kSamples.size() - 1)];
      for (size_t edits = pick(1, 4); edits > 0 && !message.empty(); --edits) {
        size_t at = pick(0, message.size() - 1);
        char c = alphabet[pick(0, alphabet.size() - 1)];
        switch (pick(0, 3)) {
          case 0:
            message[at] = c;
            break;
          case 1:
            message.insert(at, 1, c);
            break;
          case 2:
            message.erase(at, 1);
            break;
          default:
            message.resize(at);
            break;
        }
      }
    } else {
      message = "<" + std::to_string(pick(0, 200)) + ">";
      for (size_t k = pick(0, 80); k > 0; --k) {
        message.push_back(pick(0, 3) == 0 ? static_cast<char>(pick(0, 255))
                                          : alphabet[pick(0, alphabet.size() - 1)]);
      }
    }
    CAPTURE(message);
    std::string exact = message;  // sized exactly, for ASan
    parse_syslog(exact, parse);
    check_invariants(exact, parse);
  }
}

}  // namespace assas::collectors
