// The file collector's keys: defaults, and errors that say what would be valid.

#include "collectors/file/file_collector_config.h"

#include <string>

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

namespace assas::collectors {
namespace {

struct Parsed {
  std::string path;
  Result<FileCollectorConfig> config;
};

Parsed parse(const assas::test::TempDir& dir, const std::string& yaml) {
  std::string path = dir.file("agent.yaml");
  assas::test::write_text_file(path, yaml);
  Result<ConfigNode> root = ConfigNode::load_file(path);
  REQUIRE(root.is_ok());
  return Parsed{path, parse_file_collector_config(*root, "logs")};
}

}  // namespace

TEST_CASE("a file collector takes its documented defaults", "[config]") {
  assas::test::TempDir dir;
  Parsed p = parse(dir, "type: file\npaths: [\"/var/log/*.log\"]\n");
  REQUIRE(p.config.is_ok());
  REQUIRE_FALSE(p.config->start_at_beginning);
  REQUIRE_FALSE(p.config->strip_cr);
  REQUIRE(p.config->max_line_bytes == 1ULL << 20);
  REQUIRE(p.config->stat_interval == std::chrono::seconds(1));
  REQUIRE(p.config->rescan_interval == std::chrono::seconds(5));
}

TEST_CASE("file collector options are read", "[config]") {
  assas::test::TempDir dir;
  Parsed p =
      parse(dir,
            "type: file\npaths: [\"/var/log/a.log\", \"/srv/*/b.log\"]\nstart_at: beginning\n"
            "strip_cr: true\nmax_line_bytes: 64KiB\nfields: { service: web }\n"
            "stat_interval: 250ms\n");
  REQUIRE(p.config.is_ok());
  REQUIRE(p.config->paths.size() == 2);
  REQUIRE(p.config->start_at_beginning);
  REQUIRE(p.config->strip_cr);
  REQUIRE(p.config->max_line_bytes == 64 << 10);
  REQUIRE(p.config->fields == std::vector<std::pair<std::string, std::string>>{{"service", "web"}});
  REQUIRE(p.config->stat_interval == std::chrono::milliseconds(250));
}

TEST_CASE("file collector errors name the position and what would be valid", "[config]") {
  assas::test::TempDir dir;
  Parsed missing = parse(dir, "type: file\n");
  REQUIRE(missing.config.status().message() ==
          missing.path + ":1:1: missing required key 'paths', e.g. [\"/var/log/nginx/*.log\"]");
  Parsed relative = parse(dir, "type: file\npaths: [\"logs/*.log\"]\n");
  REQUIRE_THAT(relative.config.status().message(),
               Catch::Contains("'logs/*.log' must be an absolute path or glob"));
  Parsed typo = parse(dir, "type: file\npaths: [\"/a.log\"]\nstart_at: begining\n");
  REQUIRE_THAT(typo.config.status().message(), Catch::StartsWith(typo.path + ":3:11: start_at: ") &&
                                                   Catch::Contains("beginning") &&
                                                   Catch::Contains("end"));
  Parsed unknown = parse(dir, "type: file\npaths: [\"/a.log\"]\nmultilin: true\n");
  REQUIRE_THAT(unknown.config.status().message(),
               Catch::StartsWith(unknown.path + ":3:1: multilin: unknown key"));
}

}  // namespace assas::collectors

namespace assas::collectors {

TEST_CASE("rotation, descriptor, long-line and multiline options are read and checked",
          "[config]") {
  assas::test::TempDir dir;
  Parsed p =
      parse(dir,
            "type: file\npaths: [\"/var/log/*.log\"]\nexclude: [\"*.gz\"]\n"
            "long_lines: truncate\npartial_line_timeout: 0s\nmax_open_files: 64\n"
            "close_inactive: 30s\nrotate_wait: 2s\nforget_after: 1h\n"
            "multiline: { start: '^\\d{4}-', max_lines: 100, max_bytes: 64KiB, timeout: 3s }\n");
  REQUIRE(p.config.is_ok());
  REQUIRE(p.config->exclude == std::vector<std::string>{"*.gz"});
  REQUIRE(p.config->long_lines == LongLines::kTruncate);
  REQUIRE(p.config->partial_line_timeout.count() == 0);
  REQUIRE(p.config->max_open_files == 64);
  REQUIRE(p.config->close_inactive == std::chrono::seconds(30));
  REQUIRE(p.config->rotate_wait == std::chrono::seconds(2));
  REQUIRE(p.config->forget_after == std::chrono::hours(1));
  REQUIRE(p.config->multiline.start->matches("2026-11-29 x"));
  REQUIRE(p.config->multiline.max_lines == 100);
  REQUIRE(p.config->multiline.timeout == std::chrono::seconds(3));
  REQUIRE(p.config->max_line_bytes == 64 << 10);  // a line cannot exceed its event

  Parsed defaults = parse(dir, "type: file\npaths: [\"/var/log/*.log\"]\n");
  REQUIRE(defaults.config->long_lines == LongLines::kSplit);
  REQUIRE(defaults.config->partial_line_timeout == std::chrono::seconds(5));
  REQUIRE(defaults.config->max_open_files == 1024);
  REQUIRE(defaults.config->multiline.start == nullptr);

  Parsed bad_regex = parse(dir, "type: file\npaths: [\"/l/*.log\"]\nmultiline: { start: '(' }\n");
  REQUIRE_THAT(bad_regex.config.status().message(),
               Catch::Contains(":3:21: multiline.start: invalid regular expression"));
  Parsed no_start = parse(dir, "type: file\npaths: [\"/l/*.log\"]\nmultiline: { max_lines: 5 }\n");
  REQUIRE_THAT(no_start.config.status().message(), Catch::Contains("missing required key 'start'"));
  Parsed bad_mode = parse(dir, "type: file\npaths: [\"/l/*.log\"]\nlong_lines: drop\n");
  REQUIRE_THAT(bad_mode.config.status().message(), Catch::Contains("split, truncate"));
}

}  // namespace assas::collectors
