#pragma once

// assas-agent as a service: runs one Agent at a time from the config file and answers signals.
//
// - SIGTERM, SIGINT: graceful stop (collectors stop reading, batches are flushed into the buffer,
//   checkpoints written, connections closed); exit 0. A stop that takes longer than
//   agent.stop_timeout exits 1 at once: what was not durable was not checkpointed, so it is read
//   again at the next start.
// - SIGHUP: reload. The file is loaded and checked as --check would (syntax, values, certificate
//   and key files, every collector's keys, the outputs built with their TLS contexts); a config
//   that fails is rejected with the error in the log and the running agent goes on untouched. A
//   valid one replaces the running agent: a graceful stop, then a start from the new config. The
//   checkpoints and the disk buffer carry every source's position and every unacknowledged batch
//   across, exactly as across a restart, whatever was added, removed or changed; certificates and
//   keys are read again, which is how short-lived certificates are rotated. Should the new config
//   fail to start anyway (a port taken), the previous one is started again.
// - systemd (Type=notify): READY=1 once running, RELOADING=1 ... READY=1 around a reload,
//   STOPPING=1, and the watchdog fed from the loop.
//
// Contract: loop thread only; the loop outlives it. After start(), run the loop until it returns;
// then exit_code() says how it ended.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "agent/agent.h"
#include "agent/config/agent_config.h"
#include "base/service_notifier.h"
#include "base/status.h"
#include "base/uv_util.h"

namespace assas::agent {

class AgentService {
 public:
  AgentService(uv_loop_t* loop, std::string config_path, AgentConfig config);
  ~AgentService();
  AgentService(const AgentService&) = delete;
  AgentService& operator=(const AgentService&) = delete;

  // Installs the signal handlers and starts the agent. On failure it is logged, the service stops
  // with exit code 1, and the loop must still run to close everything.
  void start();
  int exit_code() const { return exit_code_; }

 private:
  enum class State { kRunning, kReloading, kStopping, kStopped };

  static void on_stop_signal(uv_signal_t* handle, int signum) noexcept;
  static void on_reload_signal(uv_signal_t* handle, int signum) noexcept;
  static void on_stopped_turn(uv_timer_t* timer) noexcept;
  static void on_stop_deadline(uv_timer_t* timer) noexcept;

  Status start_agent(const AgentConfig& config);
  // Stops the running agent; `next` runs on a later loop turn, once it is stopped and destroyed.
  void stop_agent_then(std::function<void()> next);
  void stop(const char* why);
  void reload();
  void reload_stopped(const std::shared_ptr<AgentConfig>& next);
  void running();
  void finish(int exit_code);

  uv_loop_t* loop_;
  std::string config_path_;
  AgentConfig config_;  // of the running agent
  std::unique_ptr<Agent> agent_;
  // Outputs made for starts that failed: closed, destroyed with the service (after the loop ran).
  std::vector<std::vector<OutputLanes>> failed_outputs_;
  State state_ = State::kRunning;
  bool reload_again_ = false;  // SIGHUP during a reload
  bool stop_wanted_ = false;   // SIGTERM during a reload
  int exit_code_ = 0;
  bool agent_started_ = false;  // agent_ started (else it has no pipeline to report on)
  uint64_t events_before_ = 0;  // of every agent this process ran, for the last log line
  uint64_t batches_before_ = 0;
  uint64_t acked_upto_ = 0;
  std::function<void()> after_stop_;
  uv_signal_t sigterm_{};
  uv_signal_t sigint_{};
  uv_signal_t sighup_{};
  uv_timer_t stopped_turn_{};   // runs after_stop_ outside the agent's own callback
  uv_timer_t stop_deadline_{};  // agent.stop_timeout
  ServiceNotifier notifier_;
  HandleCloser closer_;
};

}  // namespace assas::agent
