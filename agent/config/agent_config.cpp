#include "agent/config/agent_config.h"

#include <algorithm>

#include <sys/stat.h>

#include <unistd.h>

#include "base/config_files.h"
#include "transport/http_listen.h"

namespace assas::agent {
namespace {

std::string hostname() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') {
    return "localhost";
  }
  return name;
}

Status parse_agent(const ConfigNode& node, AgentSettings& agent) {
  ASSAS_RETURN_IF_ERROR(node.expect_map());
  ASSAS_RETURN_IF_ERROR(node.optional_string("id", agent.id));
  ASSAS_RETURN_IF_ERROR(node.optional_string("host", agent.host));
  ASSAS_RETURN_IF_ERROR(node.optional_string("data_dir", agent.data_dir));
  std::string level = "info";
  ASSAS_RETURN_IF_ERROR(
      node.optional_choice("log_level", level, {"debug", "info", "warn", "error"}));
  log::parse_level(level, agent.log_level);
  ASSAS_RETURN_IF_ERROR(node.optional_millis("stop_timeout", agent.stop_timeout,
                                             std::chrono::seconds(1), std::chrono::minutes(10)));
  if (!is_safe_name(agent.id, 128)) {
    // Without an id key the id is the hostname, and the error points at the agent section.
    return (node.has("id") ? *node.get("id") : node)
        .error("'" + agent.id +
               "' is not a valid agent id; use letters, digits, '_', '.' and "
               "'-' (at most 128, not starting with '.')");
  }
  if (agent.data_dir.empty() || agent.data_dir.front() != '/') {
    return node.get("data_dir")->error("must be an absolute path, e.g. /var/lib/assas");
  }
  return node.no_unknown_keys();
}

Status parse_collectors(const ConfigNode& node, std::vector<CollectorSpec>& out) {
  Result<std::vector<ConfigNode>> items = node.items();
  if (!items.is_ok()) {
    return items.status();
  }
  for (const ConfigNode& item : *items) {
    ASSAS_RETURN_IF_ERROR(item.expect_map());
    CollectorSpec spec{"", "", item};
    ASSAS_RETURN_IF_ERROR(item.required_string("type", spec.type));
    spec.name = spec.type;
    ASSAS_RETURN_IF_ERROR(item.optional_string("name", spec.name));
    if (!is_safe_name(spec.name, 64)) {
      // Without a name key the name is the type's, so the error points there.
      return (item.has("name") ? item.get("name") : item.get("type"))
          ->error("'" + spec.name +
                  "' is not a valid name; use letters, digits, '_', '.' and '-' (at "
                  "most 64)");
    }
    for (const CollectorSpec& other : out) {
      if (other.name == spec.name) {
        return (item.has("name") ? *item.get("name") : item)
            .error("collector name '" + spec.name +
                   "' is used twice; names key the checkpoints, so each must be unique");
      }
    }
    out.push_back(std::move(spec));
  }
  if (out.empty()) {
    return node.error("list at least one collector");
  }
  return Status::ok();
}

Status parse_pipeline(const ConfigNode& node, PipelineConfig& pipeline) {
  ASSAS_RETURN_IF_ERROR(node.expect_map());
  if (std::optional<ConfigNode> batch = node.get("batch")) {
    ASSAS_RETURN_IF_ERROR(batch->expect_map());
    uint64_t events = pipeline.limits.max_events;
    ASSAS_RETURN_IF_ERROR(batch->optional_uint("max_events", events, 1, 1000000));
    pipeline.limits.max_events = static_cast<uint32_t>(events);
    ASSAS_RETURN_IF_ERROR(
        batch->optional_size("max_bytes", pipeline.limits.max_bytes, 4 << 10, 64 << 20));
    ASSAS_RETURN_IF_ERROR(batch->optional_duration("max_delay", pipeline.limits.max_delay,
                                                   std::chrono::milliseconds(1),
                                                   std::chrono::seconds(60)));
    ASSAS_RETURN_IF_ERROR(batch->no_unknown_keys());
  }
  if (std::optional<ConfigNode> compression = node.get("compression")) {
    ASSAS_RETURN_IF_ERROR(compression->expect_map());
    std::string codec = "zstd";
    ASSAS_RETURN_IF_ERROR(compression->optional_choice("codec", codec, {"zstd", "none"}));
    pipeline.codec = codec == "zstd" ? transport::Codec::kZstd : transport::Codec::kNone;
    int64_t level = pipeline.level;
    ASSAS_RETURN_IF_ERROR(compression->optional_int("level", level, 1, 19));
    pipeline.level = static_cast<int>(level);
    ASSAS_RETURN_IF_ERROR(compression->no_unknown_keys());
  }
  return node.no_unknown_keys();
}

Status parse_buffer(const ConfigNode& node, BufferConfig& buffer) {
  ASSAS_RETURN_IF_ERROR(node.expect_map());
  DiskBufferOptions& o = buffer.options;
  ASSAS_RETURN_IF_ERROR(node.optional_size("max_size", o.max_size_bytes, 1 << 20, 1ULL << 44));
  ASSAS_RETURN_IF_ERROR(
      node.optional_size("segment_size", o.segment_size_bytes, 64 << 10, 1ULL << 30));
  std::string fsync = "batch";
  ASSAS_RETURN_IF_ERROR(node.optional_choice("fsync", fsync, {"batch", "off"}));
  o.fsync = fsync == "batch";
  std::string when_full = "block";
  ASSAS_RETURN_IF_ERROR(
      node.optional_choice("when_full", when_full, {"block", "drop_newest", "drop_oldest"}));
  buffer.when_full = when_full == "drop_newest"   ? WhenFull::kDropNewest
                     : when_full == "drop_oldest" ? WhenFull::kDropOldest
                                                  : WhenFull::kBlock;
  return node.no_unknown_keys();
}

Status parse_metrics(const ConfigNode& node, MetricsConfig& metrics) {
  ASSAS_RETURN_IF_ERROR(node.expect_map());
  ASSAS_RETURN_IF_ERROR(node.optional_string("file", metrics.file));
  ASSAS_RETURN_IF_ERROR(node.optional_millis("interval", metrics.interval,
                                             std::chrono::milliseconds(100),
                                             std::chrono::milliseconds(3600000)));
  if (std::optional<ConfigNode> listen = node.get("listen")) {
    ASSAS_RETURN_IF_ERROR(
        transport::parse_http_listen(*listen, metrics.server.enabled, metrics.server.listen));
  }
  if (std::optional<ConfigNode> health = node.get("health")) {
    ASSAS_RETURN_IF_ERROR(health->expect_map());
    ASSAS_RETURN_IF_ERROR(health->optional_millis("output_down_after",
                                                  metrics.server.output_down_after,
                                                  std::chrono::seconds(1), std::chrono::hours(24)));
    ASSAS_RETURN_IF_ERROR(health->no_unknown_keys());
  }
  return node.no_unknown_keys();
}

}  // namespace

bool is_safe_name(std::string_view name, size_t max_length) {
  if (name.empty() || name.size() > max_length || name.front() == '.') {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

Result<AgentConfig> load_agent_config(const std::string& path) {
  Result<ConfigNode> root = ConfigNode::load_file(path);
  if (!root.is_ok()) {
    return root.status();
  }
  return parse_agent_config(*root);
}

Result<AgentConfig> parse_agent_config(const ConfigNode& root) {
  AgentConfig config;
  config.source_file = root.file();
  config.agent.id = config.agent.host = hostname();
  ASSAS_RETURN_IF_ERROR(root.expect_map());
  if (std::optional<ConfigNode> agent = root.get("agent")) {
    ASSAS_RETURN_IF_ERROR(parse_agent(*agent, config.agent));
  }
  std::optional<ConfigNode> collectors = root.get("collectors");
  if (!collectors) {
    return root.error("missing required key 'collectors' (what to read)");
  }
  ASSAS_RETURN_IF_ERROR(parse_collectors(*collectors, config.collectors));
  if (std::optional<ConfigNode> pipeline = root.get("pipeline")) {
    ASSAS_RETURN_IF_ERROR(parse_pipeline(*pipeline, config.pipeline));
  }
  if (std::optional<ConfigNode> buffer = root.get("buffer")) {
    ASSAS_RETURN_IF_ERROR(parse_buffer(*buffer, config.buffer));
  }
  std::optional<ConfigNode> outputs = root.get("outputs");
  if (!outputs) {
    return root.error("missing required key 'outputs' (where to send)");
  }
  Result<std::vector<ConfigNode>> output_nodes = outputs->items();
  if (!output_nodes.is_ok()) {
    return output_nodes.status();
  }
  if (output_nodes->empty()) {
    return outputs->error("list at least one output (where to send)");
  }
  for (const ConfigNode& node : *output_nodes) {
    OutputSpec output;
    ASSAS_RETURN_IF_ERROR(parse_output(node, output));
    for (const OutputSpec& earlier : config.outputs) {
      if (earlier.name == output.name) {
        return node.error("two outputs are named '" + output.name +
                          "'; give each a distinct name (it labels its metrics)");
      }
      const std::vector<std::string>& before = earlier.session().endpoints;
      for (const std::string& endpoint : output.session().endpoints) {
        if (std::find(before.begin(), before.end(), endpoint) != before.end()) {
          return node.error("endpoint " + endpoint + " is also in output '" + earlier.name +
                            "'; each output keeps its own stream at a receiver, so two outputs "
                            "cannot share one");
        }
      }
    }
    config.outputs.push_back(std::move(output));
  }
  if (std::optional<ConfigNode> metrics = root.get("metrics")) {
    ASSAS_RETURN_IF_ERROR(parse_metrics(*metrics, config.metrics));
  }
  if (std::optional<ConfigNode> integrity = root.get("integrity")) {
    ASSAS_RETURN_IF_ERROR(parse_integrity(*integrity, config.integrity));
  }
  default_signing_key(config.outputs, config.integrity);
  ASSAS_RETURN_IF_ERROR(root.no_unknown_keys());
  return config;
}

Status validate_agent_config_files(const AgentConfig& config) {
  for (const OutputSpec& output : config.outputs) {
    for (const auto& [node, is_key] : output.file_nodes) {
      ASSAS_RETURN_IF_ERROR(
          check_config_file(node, is_key ? ConfigFileKind::kPrivateKey : ConfigFileKind::kPublic));
    }
  }
  const IntegrityConfig& integrity = config.integrity;
  if (integrity.chain && integrity.signing_key_node) {
    ASSAS_RETURN_IF_ERROR(
        check_config_file(*integrity.signing_key_node, ConfigFileKind::kPrivateKey));
  }
  return Status::ok();
}

}  // namespace assas::agent
