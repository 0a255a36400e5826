// assas-agent: reads logs on this host and ships them to the SOC. See README.md and docs/config.md.

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <uv.h>

#include "agent/agent.h"
#include "agent/config/agent_config.h"
#include "base/log.h"
#include "base/uv_util.h"
#include "collectors/journal/journal_reader.h"
#include "collectors/registry.h"
#include "transport/client/assas_output.h"

namespace assas::agent {
namespace {

constexpr auto kStopTimeout = std::chrono::seconds(10);

struct Runtime {
  uv_loop_t* loop = nullptr;
  Agent* agent = nullptr;
  uv_signal_t sigterm{};
  uv_signal_t sigint{};
  uv_timer_t stop_deadline{};
  bool stopping = false;
  bool stopped = false;
};

void close_runtime_handles(Runtime& rt) {
  uv_close(reinterpret_cast<uv_handle_t*>(&rt.sigterm), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&rt.sigint), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&rt.stop_deadline), nullptr);
}

void begin_stop(Runtime& rt, const char* why) {
  if (rt.stopping) {
    return;
  }
  rt.stopping = true;
  ASSAS_LOG(kInfo, "stopping: flushing batches into the buffer and writing checkpoints",
            log::kv("reason", why));
  // A stop that cannot finish (say, a full disk) must not hang the service manager; whatever was
  // not made durable was not checkpointed either, so it is read again at the next start.
  uv_timer_start(
      &rt.stop_deadline,
      [](uv_timer_t* timer) noexcept {
        ASSAS_LOG(kError, "stop did not finish in time; exiting, unsaved reads will be redone",
                  log::kv("timeout_s", static_cast<int64_t>(kStopTimeout.count())));
        std::_Exit(1);
        (void)timer;
      },
      std::chrono::duration_cast<std::chrono::milliseconds>(kStopTimeout).count(), 0);
  rt.agent->stop([&rt] {
    rt.stopped = true;
    close_runtime_handles(rt);
  });
}

void on_signal(uv_signal_t* handle, int signum) noexcept {
  auto* rt = static_cast<Runtime*>(handle->data);
  begin_stop(*rt, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

AgentOptions make_agent_options(const AgentConfig& config) {
  AgentOptions options;
  options.data_dir = config.agent.data_dir;
  options.pipeline.limits = config.pipeline.limits;
  options.pipeline.codec = config.pipeline.codec;
  options.pipeline.compression_level = config.pipeline.level;
  options.pipeline.host = config.agent.host;
  options.pipeline.when_full = config.buffer.when_full;
  options.buffer = config.buffer.options;
  options.metrics.path = config.metrics.file;
  options.metrics.interval = config.metrics.interval;
  return options;
}

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

// Every configured output as its lanes: one Output per endpoint with mode: loadbalance (lane i
// prefers endpoint i and fails over to the others), else one Output over all endpoints. Whatever
// was made is in `outputs`, also after a failure: each owns handles that must be closed, and the
// loop run, before it may be destroyed.
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

// Builds every collector and the output, so that --check exercises the same code as a real start.
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

int run(const std::string& config_path, bool check_only) {
  Result<AgentConfig> config = load_agent_config(config_path);
  if (!config.is_ok()) {
    std::fprintf(stderr, "%s\n", config.status().message().c_str());
    return 1;
  }
  log::set_min_level(config->agent.log_level);
  ignore_sigpipe();  // a receiver that goes away must be an error on the write, not a dead agent
  Status files = validate_agent_config_files(*config);
  if (!files.is_ok()) {
    std::fprintf(stderr, "%s\n", files.message().c_str());
    return 1;
  }
  for (const CollectorSpec& spec : config->collectors) {
    Status s = collectors::check_collector_config(spec.type, spec.name, spec.node);
    if (!s.is_ok()) {
      std::fprintf(stderr, "%s\n", s.message().c_str());
      return 1;
    }
  }
  uv_loop_t loop;
  if (uv_loop_init(&loop) != 0) {
    std::fprintf(stderr, "cannot initialise the event loop\n");
    return 1;
  }
  if (check_only) {
    // Loads the certificates and keys exactly as a start would.
    std::vector<OutputLanes> outputs;
    Status made = make_outputs(&loop, *config, 0, outputs);
    // Never started, but they own handles all the same: close them before the loop goes.
    close_outputs(outputs);
    uv_run(&loop, UV_RUN_DEFAULT);
    outputs.clear();
    uv_loop_close(&loop);
    if (!made.is_ok()) {
      std::fprintf(stderr, "%s: %s\n", config_path.c_str(), made.message().c_str());
      return 1;
    }
    std::printf("config OK: %s\n", config_path.c_str());
    return 0;
  }

  Result<std::vector<std::unique_ptr<Collector>>> collectors = make_collectors(&loop, *config);
  if (!collectors.is_ok()) {
    std::fprintf(stderr, "%s\n", collectors.status().message().c_str());
    uv_loop_close(&loop);
    return 1;
  }
  std::vector<OutputLanes> unused;  // outputs made for a start that failed
  Runtime rt;
  rt.loop = &loop;
  Agent agent(&loop);
  rt.agent = &agent;
  uv_signal_init(&loop, &rt.sigterm);
  uv_signal_init(&loop, &rt.sigint);
  uv_timer_init(&loop, &rt.stop_deadline);
  rt.sigterm.data = &rt;
  rt.sigint.data = &rt;
  uv_signal_start(&rt.sigterm, &on_signal, SIGTERM);
  uv_signal_start(&rt.sigint, &on_signal, SIGINT);
  release_stop_signals();

  Status started = agent.start(make_agent_options(*config), std::move(collectors).value(),
                               [&](uint64_t stream_id) -> Result<std::vector<OutputLanes>> {
                                 Status made = make_outputs(&loop, *config, stream_id, unused);
                                 if (!made.is_ok()) {
                                   close_outputs(unused);  // destroyed after the loop ran
                                   return made;
                                 }
                                 return std::move(unused);
                               });
  int exit_code = 0;
  if (!started.is_ok()) {
    ASSAS_LOG(kError, "cannot start", log::kv("error", started.to_string()));
    exit_code = 1;
    begin_stop(rt, "start failed");
  } else {
    ASSAS_LOG(kInfo, "started", log::kv("agent", config->agent.id),
              log::kv("version", ASSAS_VERSION),
              log::kv("collectors", static_cast<uint64_t>(config->collectors.size())));
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  const PipelineStats& stats = agent.pipeline_stats();
  ASSAS_LOG(kInfo, "stopped", log::kv("events", stats.events_in),
            log::kv("batches_durable", stats.batches_durable),
            log::kv("acked_upto", agent.acked_upto()));
  if (uv_loop_close(&loop) != 0) {
    ASSAS_LOG(kWarn, "event loop closed with handles still open");
  }
  return rt.stopped ? exit_code : 1;
}

}  // namespace
}  // namespace assas::agent

int main(int argc, char** argv) {
  // The journal collector's child process (collectors/journal/journal_reader.h): hidden, and first,
  // so that it holds no signals and parses nothing of the agent's command line.
  if (argc >= 2 && std::string_view(argv[1]) == "--journal-reader") {
    return assas::collectors::run_journal_reader(std::vector<std::string>(argv + 2, argv + argc));
  }
  assas::hold_stop_signals();  // released once the loop handles them
  assas::log::set_program("assas-agent");
  CLI::App app{"assas-agent: ships this host's logs to the SOC over mutual TLS"};
  std::string config_path = "/etc/assas/agent.yaml";
  bool check_only = false;
  app.add_option("-c,--config", config_path, "agent config file (YAML)");
  app.add_flag("--check", check_only, "validate the config, certificates and keys, then exit");
  app.set_version_flag("--version", std::string("assas-agent ") + ASSAS_VERSION);
  CLI11_PARSE(app, argc, argv);
  return assas::agent::run(config_path, check_only);
}
