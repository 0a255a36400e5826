#include "base/config_node.h"

#include <catch2/catch.hpp>
#include <stdlib.h>

namespace assas {

namespace {
ConfigNode load(const std::string& text) {
  Result<ConfigNode> node = ConfigNode::load_string(text, "agent.yaml");
  REQUIRE(node.is_ok());
  return *node;
}
}  // namespace

TEST_CASE("an unknown key is an error naming file, line, column, path and the valid keys",
          "[config]") {
  ConfigNode root = load("buffer:\n  max_size: 1GiB\n  when_ful: block\n");
  ConfigNode buffer = *root.get("buffer");
  uint64_t size = 0;
  std::string when_full;
  REQUIRE(buffer.optional_size("max_size", size).is_ok());
  REQUIRE(buffer.optional_string("when_full", when_full).is_ok());
  Status s = buffer.no_unknown_keys();
  REQUIRE(s.message() ==
          "agent.yaml:3:3: buffer.when_ful: unknown key; valid keys here are: max_size, when_full");
}

TEST_CASE("a duplicate key is refused rather than silently overriding", "[config]") {
  ConfigNode root = load("tls:\n  verify: true\n  verify: false\n");
  ConfigNode tls = *root.get("tls");
  REQUIRE(tls.has("verify"));
  Status s = tls.no_unknown_keys();
  REQUIRE(s.message().find("agent.yaml:3:3: tls.verify: key appears twice") == 0);
}

TEST_CASE("a bad value names its position and path", "[config]") {
  ConfigNode root = load("outputs:\n  - type: assas\n    batch: { max_bytes: lots }\n");
  std::vector<ConfigNode> outputs = *root.get("outputs")->items();
  ConfigNode batch = *outputs[0].get("batch");
  uint64_t size = 0;
  Status s = batch.optional_size("max_bytes", size);
  REQUIRE(s.message().find("agent.yaml:3:25: outputs[0].batch.max_bytes: 'lots' is not a size") ==
          0);
}

TEST_CASE("a syntax error is reported with its position", "[config]") {
  Result<ConfigNode> node = ConfigNode::load_string("a: [1, 2\n", "bad.yaml");
  REQUIRE_FALSE(node.is_ok());
  REQUIRE(node.status().message().rfind("bad.yaml:", 0) == 0);
}

TEST_CASE("environment variables are substituted in values", "[config]") {
  ::setenv("ASSAS_TEST_HOST", "soc1.example.ma", 1);
  ::unsetenv("ASSAS_TEST_UNSET");
  REQUIRE(*substitute_env("${ASSAS_TEST_HOST}:6514") == "soc1.example.ma:6514");
  REQUIRE(*substitute_env("${ASSAS_TEST_UNSET:-fallback}") == "fallback");
  REQUIRE(*substitute_env("cost $$5") == "cost $5");
  Result<std::string> missing = substitute_env("${ASSAS_TEST_UNSET}");
  REQUIRE(missing.status().message() ==
          "environment variable 'ASSAS_TEST_UNSET' is not set; set it or write "
          "${ASSAS_TEST_UNSET:-default}");
}

TEST_CASE("a choice outside the set lists the valid words", "[config]") {
  ConfigNode root = load("when_full: maybe\n");
  std::string v = "block";
  Status s = root.optional_choice("when_full", v, {"block", "drop_oldest", "drop_newest"});
  REQUIRE(s.message() ==
          "agent.yaml:1:12: when_full: 'maybe' is not valid; use one of: block, drop_oldest, "
          "drop_newest");
}

}  // namespace assas
