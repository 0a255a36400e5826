// The journal collector's keys: defaults, match expansion, and errors that say what would be valid.

#include "collectors/journal/journal_collector_config.h"

#include <string>

#include <catch2/catch.hpp>

namespace assas::collectors {
namespace {

Result<JournalCollectorConfig> parse(const std::string& yaml) {
  Result<ConfigNode> root = ConfigNode::load_string(yaml, "agent.yaml");
  REQUIRE(root.is_ok());
  return parse_journal_collector_config(*root, "j");
}

std::string error_of(const std::string& yaml) {
  Result<JournalCollectorConfig> config = parse(yaml);
  REQUIRE_FALSE(config.is_ok());
  return config.status().message();
}

}  // namespace

TEST_CASE("a journal collector takes its documented defaults", "[journal][config]") {
  Result<JournalCollectorConfig> c = parse("type: journal\n");
  REQUIRE(c.is_ok());
  REQUIRE(c->name == "j");
  REQUIRE(c->directory.empty());
  REQUIRE(c->matches.empty());
  REQUIRE(c->units.empty());
  REQUIRE(c->start_at == JournalStartAt::kEnd);
  REQUIRE(c->fields == std::vector<std::string>{"PRIORITY", "SYSLOG_IDENTIFIER", "_PID", "_UID",
                                                "_COMM", "_EXE", "_SYSTEMD_UNIT", "_HOSTNAME",
                                                "_BOOT_ID"});
  REQUIRE_FALSE(c->all_fields);
  REQUIRE(c->max_entry_size_bytes == 1ULL << 20);
}

TEST_CASE("journal matches expand numeric ranges and units get .service", "[journal][config]") {
  Result<JournalCollectorConfig> c = parse(
      "type: journal\n"
      "directory: /var/log/journal/remote\n"
      "matches: [\"PRIORITY=0..2\", \"SYSLOG_FACILITY=10\", \"_COMM=a..b\"]\n"
      "units: [sshd, cron.timer]\n"
      "start_at: beginning\n"
      "fields: [_PID, MESSAGE]\n"
      "max_entry_size: 4KiB\n");
  REQUIRE(c.is_ok());
  REQUIRE(c->directory == "/var/log/journal/remote");
  REQUIRE(c->matches == std::vector<std::string>{"PRIORITY=0", "PRIORITY=1", "PRIORITY=2",
                                                 "SYSLOG_FACILITY=10", "_COMM=a..b"});
  REQUIRE(c->units ==
          std::vector<std::string>{"_SYSTEMD_UNIT=sshd.service", "_SYSTEMD_UNIT=cron.timer"});
  REQUIRE(c->start_at == JournalStartAt::kBeginning);
  REQUIRE(c->fields == std::vector<std::string>{"_PID", "MESSAGE"});
  REQUIRE(c->max_entry_size_bytes == 4096);
}

TEST_CASE("journal fields: all keeps every field", "[journal][config]") {
  Result<JournalCollectorConfig> c = parse("type: journal\nfields: all\n");
  REQUIRE(c.is_ok());
  REQUIRE(c->all_fields);
  REQUIRE(c->fields.empty());
}

TEST_CASE("journal start_at cursor needs a cursor and a cursor needs start_at cursor",
          "[journal][config]") {
  Result<JournalCollectorConfig> c =
      parse("type: journal\nstart_at: cursor\ncursor: \"s=1;i=2\"\n");
  REQUIRE(c.is_ok());
  REQUIRE(c->start_at == JournalStartAt::kCursor);
  REQUIRE(c->cursor == "s=1;i=2");
  REQUIRE(error_of("type: journal\nstart_at: cursor\n").find("needs the key 'cursor'") !=
          std::string::npos);
  REQUIRE(error_of("type: journal\ncursor: \"s=1\"\n").find("only with start_at: cursor") !=
          std::string::npos);
}

TEST_CASE("bad journal collector keys name the key and the fix", "[journal][config]") {
  REQUIRE(error_of("type: journal\nmatches: [\"priority=3\"]\n").find("upper-case field name") !=
          std::string::npos);
  REQUIRE(error_of("type: journal\nmatches: [\"PRIORITY\"]\n").find("FIELD=value") !=
          std::string::npos);
  REQUIRE(error_of("type: journal\nmatches: [\"PRIORITY=4..0\"]\n").find("must go up") !=
          std::string::npos);
  REQUIRE(error_of("type: journal\nmatches: [\"_PID=0..5000\"]\n").find("at most 1000") !=
          std::string::npos);
  REQUIRE(error_of("type: journal\nunits: [\"a=b\"]\n").find("not a unit name") !=
          std::string::npos);
  REQUIRE(error_of("type: journal\ndirectory: relative/dir\n").find("absolute path") !=
          std::string::npos);
  REQUIRE(error_of("type: journal\nfields: some\n").find("'all'") != std::string::npos);
  REQUIRE(error_of("type: journal\nfields: [pid]\n").find("not a journal field name") !=
          std::string::npos);
  REQUIRE(error_of("type: journal\nstart_at: middle\n").find("start_at") != std::string::npos);
  REQUIRE(error_of("type: journal\nmax_entry_size: 100\n").find("max_entry_size") !=
          std::string::npos);
  std::string unknown = error_of("type: journal\nmatch: [\"A=1\"]\n");
  REQUIRE(unknown.find("match") != std::string::npos);
  REQUIRE(unknown.find("matches") != std::string::npos);
}

}  // namespace assas::collectors
