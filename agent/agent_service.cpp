#include "agent/agent_service.h"

#include <cstdlib>
#include <utility>

#include "agent/agent_assembly.h"
#include "base/log.h"

namespace assas::agent {
namespace {

std::string running_status(const AgentConfig& config) {
  return "shipping: " + std::to_string(config.collectors.size()) + " collectors, " +
         std::to_string(config.outputs.size()) + " outputs";
}

}  // namespace

AgentService::AgentService(uv_loop_t* loop, std::string config_path, AgentConfig config)
    : loop_(loop),
      config_path_(std::move(config_path)),
      config_(std::move(config)),
      notifier_(loop) {
  uv_signal_init(loop_, &sigterm_);
  uv_signal_init(loop_, &sigint_);
  uv_signal_init(loop_, &sighup_);
  uv_timer_init(loop_, &stopped_turn_);
  uv_timer_init(loop_, &stop_deadline_);
  sigterm_.data = sigint_.data = sighup_.data = this;
  stopped_turn_.data = stop_deadline_.data = this;
}

AgentService::~AgentService() {
  ASSAS_CHECK(state_ == State::kStopped && closer_.idle(),
              "AgentService destroyed before it stopped");
}

void AgentService::start() {
  uv_signal_start(&sigterm_, &AgentService::on_stop_signal, SIGTERM);
  uv_signal_start(&sigint_, &AgentService::on_stop_signal, SIGINT);
  uv_signal_start(&sighup_, &AgentService::on_reload_signal, SIGHUP);
  release_stop_signals();  // one that came during the start is delivered now
  Status started = start_agent(config_);
  if (!started.is_ok()) {
    ASSAS_LOG(kError, "cannot start", log::kv("error", started.to_string()));
    exit_code_ = 1;
    stop("start failed");
    return;
  }
  ASSAS_LOG(kInfo, "started", log::kv("agent", config_.agent.id), log::kv("version", ASSAS_VERSION),
            log::kv("collectors", static_cast<uint64_t>(config_.collectors.size())));
  running();
}

Status AgentService::start_agent(const AgentConfig& config) {
  log::set_min_level(config.agent.log_level);
  agent_ = std::make_unique<Agent>(loop_);
  Result<std::vector<std::unique_ptr<Collector>>> collectors = make_collectors(loop_, config);
  if (!collectors.is_ok()) {
    return collectors.status();
  }
  Result<std::shared_ptr<const transport::ChainSigner>> signer =
      make_chain_signer(config.integrity);
  if (!signer.is_ok()) {
    return signer.status();
  }
  AgentOptions options = make_agent_options(config);
  options.pipeline.chain.signer = std::move(signer).value();
  if (config.integrity.chain && !options.pipeline.chain.signer) {
    ASSAS_LOG(kWarn, "integrity: no signing key; the chain is not signed",
              log::kv("fix", "set integrity.signing_key, or add an output of type assas"));
  }
  Status started = agent_->start(std::move(options), std::move(collectors).value(),
                                 [&](uint64_t stream_id) -> Result<std::vector<OutputLanes>> {
                                   std::vector<OutputLanes> outputs;
                                   Status made = make_outputs(loop_, config, stream_id, outputs);
                                   if (!made.is_ok()) {
                                     close_outputs(outputs);
                                     failed_outputs_.push_back(std::move(outputs));
                                     return made;
                                   }
                                   return outputs;
                                 });
  agent_started_ = started.is_ok();
  return started;
}

// The agent calls back from deep inside its own stop; it is destroyed, and whatever comes next
// runs, on the next loop turn instead.
void AgentService::stop_agent_then(std::function<void()> next) {
  after_stop_ = std::move(next);
  auto timeout = static_cast<uint64_t>(config_.agent.stop_timeout.count());
  uv_timer_start(&stop_deadline_, &AgentService::on_stop_deadline, timeout, 0);
  agent_->stop([this] { uv_timer_start(&stopped_turn_, &AgentService::on_stopped_turn, 0, 0); });
}

void AgentService::on_stopped_turn(uv_timer_t* timer) noexcept {
  auto* self = static_cast<AgentService*>(timer->data);
  uv_timer_stop(&self->stop_deadline_);
  if (self->agent_started_) {
    self->events_before_ += self->agent_->pipeline_stats().events_in;
    self->batches_before_ += self->agent_->pipeline_stats().batches_durable;
    self->acked_upto_ = self->agent_->acked_upto();
  }
  self->agent_.reset();
  auto next = std::move(self->after_stop_);
  next();
}

void AgentService::on_stop_deadline(uv_timer_t* timer) noexcept {
  auto* self = static_cast<AgentService*>(timer->data);
  // A stop that cannot finish (say, a full disk) must not hang the service manager; whatever was
  // not made durable was not checkpointed either, so it is read again at the next start.
  ASSAS_LOG(
      kError, "stop did not finish in time; exiting, unsaved reads will be redone",
      log::kv("stop_timeout_ms", static_cast<int64_t>(self->config_.agent.stop_timeout.count())));
  std::_Exit(1);
}

void AgentService::on_stop_signal(uv_signal_t* handle, int signum) noexcept {
  auto* self = static_cast<AgentService*>(handle->data);
  self->stop(signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

void AgentService::on_reload_signal(uv_signal_t* handle, int signum) noexcept {
  (void)signum;
  static_cast<AgentService*>(handle->data)->reload();
}

void AgentService::stop(const char* why) {
  if (state_ == State::kReloading) {
    stop_wanted_ = true;  // once the reload has stopped the running agent, nothing starts again
    return;
  }
  if (state_ != State::kRunning) {
    return;
  }
  state_ = State::kStopping;
  notifier_.stopping();
  ASSAS_LOG(kInfo, "stopping: flushing batches into the buffer and writing checkpoints",
            log::kv("reason", why));
  stop_agent_then([this] { finish(exit_code_); });
}

void AgentService::reload() {
  if (state_ == State::kReloading) {
    reload_again_ = true;  // the file may have changed again since this reload read it
    return;
  }
  if (state_ != State::kRunning) {
    return;
  }
  notifier_.reloading();
  ASSAS_LOG(kInfo, "SIGHUP: reloading the config", log::kv("config", config_path_));
  Result<AgentConfig> next = load_checked_agent_config(config_path_);
  Status usable = next.is_ok() ? Status::ok() : next.status();
  if (usable.is_ok() && next->agent.data_dir != config_.agent.data_dir) {
    usable = invalid_argument(config_path_ + ": agent.data_dir cannot change on a reload (from '" +
                              config_.agent.data_dir + "' to '" + next->agent.data_dir +
                              "'); restart the agent to move its buffer and checkpoints");
  }
  if (!usable.is_ok()) {
    ASSAS_LOG(kError, "config reload rejected; the running config stays in force",
              log::kv("error", usable.message()));
    notifier_.ready(running_status(config_));
    return;
  }
  state_ = State::kReloading;
  auto next_config = std::make_shared<AgentConfig>(std::move(next).value());
  stop_agent_then([this, next_config] { reload_stopped(next_config); });
}

void AgentService::reload_stopped(const std::shared_ptr<AgentConfig>& next) {
  if (stop_wanted_) {
    finish(0);
    return;
  }
  Status started = start_agent(*next);
  if (started.is_ok()) {
    config_ = std::move(*next);
    ASSAS_LOG(kInfo, "config reloaded", log::kv("config", config_path_),
              log::kv("collectors", static_cast<uint64_t>(config_.collectors.size())),
              log::kv("outputs", static_cast<uint64_t>(config_.outputs.size())));
    running();
    return;
  }
  ASSAS_LOG(kError, "the reloaded config did not start; starting the previous one again",
            log::kv("error", started.to_string()));
  stop_agent_then([this] {
    if (stop_wanted_) {
      finish(0);
      return;
    }
    Status again = start_agent(config_);
    if (again.is_ok()) {
      ASSAS_LOG(kInfo, "the previous config runs again");
      running();
      return;
    }
    ASSAS_LOG(kError, "cannot start the previous config again",
              log::kv("error", again.to_string()));
    exit_code_ = 1;
    state_ = State::kStopping;
    stop_agent_then([this] { finish(1); });
  });
}

void AgentService::running() {
  state_ = State::kRunning;
  notifier_.ready(running_status(config_));
  if (stop_wanted_) {
    stop("SIGTERM during a reload");
  } else if (reload_again_) {
    reload_again_ = false;
    reload();
  }
}

void AgentService::finish(int exit_code) {
  exit_code_ = exit_code;
  state_ = State::kStopped;
  ASSAS_LOG(kInfo, "stopped", log::kv("events", events_before_),
            log::kv("batches_durable", batches_before_), log::kv("acked_upto", acked_upto_),
            log::kv("exit_code", exit_code));
  closer_.close(&sigterm_);
  closer_.close(&sigint_);
  closer_.close(&sighup_);
  closer_.close(&stopped_turn_);
  closer_.close(&stop_deadline_);
  notifier_.close([] {});
}

}  // namespace assas::agent
