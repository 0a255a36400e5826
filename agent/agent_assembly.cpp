#include "agent/agent_assembly.h"

#include <string>
#include <type_traits>
#include <variant>

#include "collectors/registry.h"
#include "transport/client/assas_output.h"

namespace assas::agent {
namespace {

// The stream of lane `lane` of `lanes`: the buffer's own stream id with one lane, a distinct id
// per lane otherwise (splitmix64 of both), so that each receiver sees each lane as one stream of
// increasing seqs and keeps de-duplicating it exactly.
uint64_t lane_stream_id(uint64_t stream_id, uint32_t lane, uint32_t lanes) {
  if (lanes == 1) {
    return stream_id;
  }
  uint64_t z = stream_id ^ ((static_cast<uint64_t>(lanes) << 32) | lane);
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Makes the outputs on a loop of their own and closes them again: what --check and a reload do to
// load every certificate and key exactly as a start would.
Status check_outputs(const AgentConfig& config) {
  uv_loop_t loop;
  if (uv_loop_init(&loop) != 0) {
    return internal_error("cannot initialise an event loop to check the outputs");
  }
  std::vector<OutputLanes> outputs;
  Status made = make_outputs(&loop, config, 0, outputs);
  close_outputs(outputs);  // never started, but they own handles all the same
  uv_run(&loop, UV_RUN_DEFAULT);
  outputs.clear();
  uv_loop_close(&loop);
  return made;
}

}  // namespace

AgentOptions make_agent_options(const AgentConfig& config) {
  AgentOptions options;
  options.data_dir = config.agent.data_dir;
  options.pipeline.limits = config.pipeline.limits;
  options.pipeline.codec = config.pipeline.codec;
  options.pipeline.compression_level = config.pipeline.level;
  options.pipeline.host = config.agent.host;
  options.pipeline.when_full = config.buffer.when_full;
  options.pipeline.chain.enabled = config.integrity.chain;
  options.pipeline.chain.sign_every = config.integrity.sign_every;
  options.pipeline.chain.sign_interval = config.integrity.sign_interval;
  options.buffer = config.buffer.options;
  options.metrics.path = config.metrics.file;
  options.metrics.interval = config.metrics.interval;
  options.metrics_server = config.metrics.server;
  return options;
}

// One Output per endpoint with mode: loadbalance (lane i prefers endpoint i and fails over to the
// others), else one Output over all endpoints.
Status make_outputs(uv_loop_t* loop, const AgentConfig& config, uint64_t stream_id,
                    std::vector<OutputLanes>& outputs) {
  for (const OutputSpec& spec : config.outputs) {
    OutputLanes& output = outputs.emplace_back();
    output.name = spec.name;
    output.max_behind_bytes = spec.max_behind_bytes;
    auto lanes = static_cast<uint32_t>(spec.loadbalance ? spec.session().endpoints.size() : 1);
    for (uint32_t lane = 0; lane < lanes; ++lane) {
      OutputOptions options = spec.options;
      if (auto* assas = std::get_if<transport::AssasOutputOptions>(&options)) {
        assas->agent_id = config.agent.id;
        assas->host = config.agent.host;
        assas->stream_id = lane_stream_id(stream_id, lane, lanes);
      }
      std::visit(
          [&](auto& o) {
            if constexpr (std::is_base_of_v<transport::BrokerOptions,
                                            std::remove_reference_t<decltype(o)>>) {
              o.agent_id = config.agent.id;  // message ids and the events' "agent"
              o.stream_id = stream_id;       // one lane: never loadbalanced
            }
          },
          options);
      transport::SessionOptions& session = session_options(options);
      session.first_endpoint = lane;
      if (lanes > 1) {
        session.name = spec.name + "#" + std::to_string(lane);
      }
      Result<std::unique_ptr<transport::Output>> made = make_output(loop, std::move(options));
      if (!made.is_ok()) {
        return made.status().with_context("output '" + spec.name + "'");
      }
      output.lanes.push_back(std::move(made).value());
    }
  }
  return Status::ok();
}

void close_outputs(std::vector<OutputLanes>& outputs) {
  for (OutputLanes& output : outputs) {
    for (auto& lane : output.lanes) {
      lane->close([] {});
    }
  }
}

Result<std::vector<std::unique_ptr<Collector>>> make_collectors(uv_loop_t* loop,
                                                                const AgentConfig& config) {
  std::vector<std::unique_ptr<Collector>> collectors;
  for (const CollectorSpec& spec : config.collectors) {
    Result<std::unique_ptr<Collector>> collector =
        collectors::make_collector(loop, spec.type, spec.name, spec.node);
    if (!collector.is_ok()) {
      return collector.status();
    }
    collectors.push_back(std::move(collector).value());
  }
  return collectors;
}

Result<AgentConfig> load_checked_agent_config(const std::string& path) {
  Result<AgentConfig> config = load_agent_config(path);
  if (!config.is_ok()) {
    return config.status();
  }
  ASSAS_RETURN_IF_ERROR(validate_agent_config_files(*config));
  Result<std::shared_ptr<const transport::ChainSigner>> signer =
      make_chain_signer(config->integrity);
  if (!signer.is_ok()) {
    return signer.status();
  }
  for (const CollectorSpec& spec : config->collectors) {
    ASSAS_RETURN_IF_ERROR(collectors::check_collector_config(spec.type, spec.name, spec.node));
  }
  Status outputs = check_outputs(*config);
  if (!outputs.is_ok()) {
    return outputs.with_context(path);
  }
  return config;
}

}  // namespace assas::agent
