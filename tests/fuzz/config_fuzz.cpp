// The config loaders (agent/config/agent_config.h with the collectors' registry, and
// ingest/ingest_config.h): YAML is a large grammar, and yaml-cpp throws. The input is the text of
// a config file, parsed as agent.yaml (then every collector's keys, as --check does) and as
// ingest.yaml. Property: any text gives a config or an InvalidArgument Status that names the file
// (never a crash, an exception or another kind of error).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/config/agent_config.h"
#include "base/config_node.h"
#include "collectors/registry.h"
#include "ingest/ingest_config.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

// ConfigNode::load_file reads at most 4 MiB; libFuzzer's inputs stay far below that anyway.
constexpr size_t kMaxConfigBytes = 4 << 20;

void check_error(const assas::Status& status, std::string_view file) {
  if (status.is_ok()) {
    return;
  }
  ASSAS_FUZZ_CHECK(status.code() == assas::StatusCode::kInvalidArgument);
  ASSAS_FUZZ_CHECK(status.message().find(file) != std::string::npos);
}

void agent_config(std::string_view text) {
  assas::Result<assas::ConfigNode> root = assas::ConfigNode::load_string(text, "agent.yaml");
  if (!root.is_ok()) {
    check_error(root.status(), "agent.yaml");
    return;
  }
  assas::Result<assas::agent::AgentConfig> config = assas::agent::parse_agent_config(*root);
  if (!config.is_ok()) {
    check_error(config.status(), "agent.yaml");
    return;
  }
  for (const assas::agent::CollectorSpec& spec : config->collectors) {
    check_error(assas::collectors::check_collector_config(spec.type, spec.name, spec.node),
                "agent.yaml");
  }
}

void ingest_config(std::string_view text) {
  assas::Result<assas::ConfigNode> root = assas::ConfigNode::load_string(text, "ingest.yaml");
  if (!root.is_ok()) {
    check_error(root.status(), "ingest.yaml");
    return;
  }
  check_error(assas::ingest::parse_ingest_config(*root).status(), "ingest.yaml");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxConfigBytes) {
    return 0;
  }
  std::string_view text(reinterpret_cast<const char*>(data), size);
  agent_config(text);
  ingest_config(text);
  return 0;
}
