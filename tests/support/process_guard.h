#pragma once

// A child process for integration tests, known by its PID and by nothing else: it is stopped by
// that PID (SIGTERM with a bounded wait, then SIGKILL) and always reaped, also when a test fails
// and the guard goes out of scope. It never signals any other process.

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <sys/types.h>

namespace assas::test {

class ProcessGuard {
 public:
  ProcessGuard() = default;
  ~ProcessGuard();
  ProcessGuard(const ProcessGuard&) = delete;
  ProcessGuard& operator=(const ProcessGuard&) = delete;

  // Starts argv[0] with argv, extra environment variables, and stdout and stderr appended to
  // log_path. Throws std::runtime_error if it cannot start. A guard may be started again after
  // its previous process exited.
  void start(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
             const std::string& log_path);
  pid_t pid() const { return pid_; }
  bool is_running();
  // SIGTERM, wait up to timeout, then SIGKILL. Returns the exit code, or 128 + signal.
  int terminate(std::chrono::milliseconds timeout);
  // SIGKILL and reap, as a crash would.
  void kill9();
  // Waits for the process to exit by itself; -1 at the timeout (the process is then killed).
  int wait_exit(std::chrono::milliseconds timeout);

 private:
  bool reap(int& exit_code, bool block);
  pid_t pid_ = -1;
};

}  // namespace assas::test
