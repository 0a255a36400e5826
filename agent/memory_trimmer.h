#pragma once

// Gives memory back to the system once the agent has gone quiet. After a burst, glibc keeps the
// freed heap (batch, compression and read buffers of both threads) for reuse; on a small gateway
// that idle RSS is what the agent costs all day. When the disk buffer has just emptied, arm()
// starts (or restarts) a one-shot timer; when it fires, malloc_trim(0) returns the free pages of
// every arena. Under load the buffer rarely empties and the timer keeps being pushed back, so the
// trim does not cost throughput; when idle nothing wakes up.
//
// Loop thread only. close() before destroying it.

#include <chrono>
#include <functional>

#include <uv.h>

#include "base/uv_util.h"

namespace assas::agent {

class MemoryTrimmer {
 public:
  MemoryTrimmer(uv_loop_t* loop, std::chrono::milliseconds quiet_for);
  ~MemoryTrimmer();
  MemoryTrimmer(const MemoryTrimmer&) = delete;
  MemoryTrimmer& operator=(const MemoryTrimmer&) = delete;

  void arm();
  void close(std::function<void()> on_closed);
  uint64_t trims() const { return trims_; }

 private:
  static void on_timer(uv_timer_t* timer) noexcept;

  uv_timer_t timer_{};
  std::chrono::milliseconds quiet_for_;
  uint64_t trims_ = 0;
  bool closing_ = false;
  HandleCloser closer_;
  std::function<void()> on_closed_;
};

}  // namespace assas::agent
