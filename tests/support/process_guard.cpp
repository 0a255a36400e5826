#include "tests/support/process_guard.h"

#include <stdexcept>
#include <thread>

#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

namespace assas::test {

ProcessGuard::~ProcessGuard() {
  if (pid_ > 0) {
    kill9();
  }
}

void ProcessGuard::start(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env,
                         const std::string& log_path) {
  if (pid_ > 0) {
    throw std::runtime_error("ProcessGuard already runs pid " + std::to_string(pid_));
  }
  int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log < 0) {
    throw std::runtime_error("cannot open " + log_path);
  }
  std::vector<char*> args;
  for (const std::string& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log);
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec. The test framework's signal handlers must
    // not run in it: a stop signal before exec ends it as it would end the program.
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    for (const auto& [key, value] : env) {
      ::setenv(key.c_str(), value.c_str(), 1);  // NOLINT(concurrency-mt-unsafe): child, one thread
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(log);
  pid_ = pid;
}

bool ProcessGuard::reap(int& exit_code, bool block) {
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  if (r != pid_) {
    return false;
  }
  exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  pid_ = -1;
  return true;
}

bool ProcessGuard::is_running() {
  int code = 0;
  return pid_ > 0 && !reap(code, false);
}

int ProcessGuard::wait_exit(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int code = 0;
  while (pid_ > 0) {
    if (reap(code, false)) {
      return code;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      kill9();
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return code;
}

int ProcessGuard::terminate(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) {
    return -1;
  }
  ::kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int code = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (reap(code, false)) {
      return code;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill9();
  return 128 + SIGKILL;
}

void ProcessGuard::kill9() {
  if (pid_ <= 0) {
    return;
  }
  ::kill(pid_, SIGKILL);
  int code = 0;
  reap(code, true);
}

}  // namespace assas::test
