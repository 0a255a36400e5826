#pragma once

// agent.yaml: the typed configuration of assas-agent (docs/config.md). Parsing follows the
// house rule: every mapping refuses keys it does not know, and every error names the file, line,
// column and key path. Collector-specific keys are parsed by the collectors' registry (agent/
// never names a collector type), which is why a CollectorSpec keeps its node.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "agent/buffer/disk_buffer.h"
#include "agent/config/integrity_config.h"
#include "agent/config/output_config.h"
#include "agent/metrics_endpoint.h"
#include "agent/pipeline/batcher.h"
#include "agent/pipeline/pipeline.h"
#include "base/config_node.h"
#include "base/log.h"
#include "base/status.h"
#include "transport/endpoint.h"
#include "transport/protocol/compression.h"

namespace assas::agent {

struct AgentSettings {
  std::string id;    // defaults to the hostname
  std::string host;  // defaults to the hostname
  std::string data_dir = "/var/lib/assas";
  log::Level log_level = log::Level::kInfo;
  // How long a stop (SIGTERM, or the stop half of a reload) may take before the process exits
  // anyway; what was not yet durable was not checkpointed either, so it is read again.
  std::chrono::milliseconds stop_timeout{10000};
};

struct CollectorSpec {
  std::string type;
  std::string name;
  ConfigNode node;  // the whole entry; the registry reads its type-specific keys
};

struct PipelineConfig {
  BatchLimits limits;
  transport::Codec codec = transport::Codec::kZstd;
  int level = 3;
};

struct BufferConfig {
  DiskBufferOptions options;  // dir is set from data_dir by the agent
  WhenFull when_full = WhenFull::kBlock;
};

struct MetricsConfig {
  std::string file;  // empty: <data_dir>/metrics.prom
  std::chrono::milliseconds interval{10000};
  MetricsServerOptions server;  // listen, health.output_down_after
};

struct AgentConfig {
  std::string source_file;
  AgentSettings agent;
  std::vector<CollectorSpec> collectors;
  PipelineConfig pipeline;
  BufferConfig buffer;
  MetricsConfig metrics;
  std::vector<OutputSpec> outputs;
  IntegrityConfig integrity;
};

// Parses path. Syntax and value errors only; see validate_agent_config_files for the files.
Result<AgentConfig> load_agent_config(const std::string& path);
// The same for a config already read (ConfigNode::load_string): what load_agent_config does after
// reading the file, and the entry point of the config fuzz target.
Result<AgentConfig> parse_agent_config(const ConfigNode& root);
// Certificate, key and CA files exist, and keys are private (--check and start-up).
Status validate_agent_config_files(const AgentConfig& config);
// [A-Za-z0-9_.-]{1,128}, not starting with '.': names that become file names at the receiver.
bool is_safe_name(std::string_view name, size_t max_length);

}  // namespace assas::agent
