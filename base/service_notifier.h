#pragma once

// Tells systemd where the service is (Type=notify): READY=1 once it serves, RELOADING=1 and
// READY=1 around a config reload, STOPPING=1 when it begins to stop, and WATCHDOG=1 at half the
// unit's WatchdogSec. The watchdog is fed from a timer on the event loop, so a loop that hangs
// stops feeding it and systemd restarts the service. Outside systemd (no NOTIFY_SOCKET) every call
// does nothing.
//
// Contract: loop thread only; the loop outlives it. close() before destroying it.

#include <cstdint>
#include <functional>
#include <string_view>

#include <uv.h>

#include "base/uv_util.h"

namespace assas {

class ServiceNotifier {
 public:
  // Starts the watchdog timer if the service manager asked for one (WATCHDOG_USEC for this pid).
  explicit ServiceNotifier(uv_loop_t* loop);
  ~ServiceNotifier();
  ServiceNotifier(const ServiceNotifier&) = delete;
  ServiceNotifier& operator=(const ServiceNotifier&) = delete;

  // status: one human line that `systemctl status` shows.
  void ready(std::string_view status);
  void reloading();
  void stopping();
  // on_closed runs once the timer is closed; then it may be destroyed.
  void close(std::function<void()> on_closed);

  uint64_t watchdog_interval_us() const { return watchdog_us_; }

 private:
  static void on_watchdog(uv_timer_t* timer) noexcept;
  static void send(std::string_view state);

  uv_timer_t timer_{};
  uint64_t watchdog_us_ = 0;  // 0: no watchdog
  HandleCloser closer_;
  std::function<void()> on_closed_;
};

}  // namespace assas
