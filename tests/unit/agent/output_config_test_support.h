#pragma once

// What the output config tests share: one `outputs:` entry given as YAML, parsed as the agent
// parses it.

#include <string>

#include <catch2/catch.hpp>

#include "agent/config/output_config.h"
#include "base/config_node.h"

namespace assas::agent::config_test {

// Parses one output entry given as YAML; the error message, or "" when it parsed.
inline std::string parse(const std::string& yaml, OutputSpec& spec) {
  Result<ConfigNode> node = ConfigNode::load_string(yaml, "agent.yaml");
  REQUIRE(node.is_ok());
  Status s = parse_output(*node, spec);
  return s.is_ok() ? "" : s.message();
}

inline std::string error_of(const std::string& yaml) {
  OutputSpec spec;
  return parse(yaml, spec);
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace assas::agent::config_test
