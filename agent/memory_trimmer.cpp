#include "agent/memory_trimmer.h"

#include <malloc.h>

#include "base/log.h"

namespace assas::agent {

MemoryTrimmer::MemoryTrimmer(uv_loop_t* loop, std::chrono::milliseconds quiet_for)
    : quiet_for_(quiet_for) {
  ASSAS_CHECK(uv_timer_init(loop, &timer_) == 0, "uv_timer_init cannot fail");
  timer_.data = this;
}

MemoryTrimmer::~MemoryTrimmer() {
  ASSAS_CHECK(closing_ && closer_.idle(), "MemoryTrimmer destroyed before close() completed");
}

void MemoryTrimmer::arm() {
  if (!closing_) {
    uv_timer_start(&timer_, &MemoryTrimmer::on_timer, static_cast<uint64_t>(quiet_for_.count()), 0);
  }
}

void MemoryTrimmer::on_timer(uv_timer_t* timer) noexcept {
  auto* self = static_cast<MemoryTrimmer*>(timer->data);
  ++self->trims_;
  ::malloc_trim(0);
}

void MemoryTrimmer::close(std::function<void()> on_closed) {
  closing_ = true;
  on_closed_ = std::move(on_closed);
  uv_timer_stop(&timer_);
  closer_.close(&timer_);
  closer_.when_closed(
      [](void* owner) {
        auto* self = static_cast<MemoryTrimmer*>(owner);
        auto done = std::move(self->on_closed_);
        done();
      },
      this);
}

}  // namespace assas::agent
