#include "base/service_notifier.h"

#include <algorithm>
#include <cerrno>
#include <string>

#include <systemd/sd-daemon.h>

#include "base/log.h"

namespace assas {

ServiceNotifier::ServiceNotifier(uv_loop_t* loop) {
  int rc = uv_timer_init(loop, &timer_);
  ASSAS_CHECK(rc == 0, "uv_timer_init cannot fail");
  timer_.data = this;
  uint64_t usec = 0;
  // 0 (not asked for, or asked of another pid) and errors alike: no watchdog.
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_us_ = usec;
    uint64_t every_ms =
        std::max<uint64_t>(1, usec / 2000);  // half the interval, as systemd advises
    uv_timer_start(&timer_, &ServiceNotifier::on_watchdog, every_ms, every_ms);
    // The watchdog must not keep the loop alive on its own once everything else has stopped.
    uv_unref(reinterpret_cast<uv_handle_t*>(&timer_));
    ASSAS_LOG(kDebug, "feeding the systemd watchdog", log::kv("every_ms", every_ms));
  }
}

ServiceNotifier::~ServiceNotifier() {
  ASSAS_CHECK(closer_.idle() && uv_is_closing(reinterpret_cast<uv_handle_t*>(&timer_)) != 0,
              "ServiceNotifier destroyed before close() completed");
}

void ServiceNotifier::send(std::string_view state) {
  // unset_environment=0: a reload or a journal reader child may need NOTIFY_SOCKET again. The
  // children never use it: NotifyAccess=main makes systemd ignore any pid but the main one.
  int rc = sd_notify(0, std::string(state).c_str());
  if (rc < 0) {
    ASSAS_LOG(kWarn, "cannot notify the service manager", log::kv("state", state),
              log::kv("error", posix_status("sd_notify", -rc).message()));
  }
}

void ServiceNotifier::ready(std::string_view status) {
  send("READY=1\nSTATUS=" + std::string(status));
}

void ServiceNotifier::reloading() {
  send("RELOADING=1\nSTATUS=reloading the config");
}

void ServiceNotifier::stopping() {
  send("STOPPING=1\nSTATUS=stopping");
}

void ServiceNotifier::on_watchdog(uv_timer_t* timer) noexcept {
  (void)timer;
  send("WATCHDOG=1");
}

void ServiceNotifier::close(std::function<void()> on_closed) {
  on_closed_ = std::move(on_closed);
  closer_.close(&timer_);
  closer_.when_closed(
      [](void* self) {
        auto* notifier = static_cast<ServiceNotifier*>(self);
        if (notifier->on_closed_) {
          auto done = std::move(notifier->on_closed_);
          done();
        }
      },
      this);
}

}  // namespace assas
