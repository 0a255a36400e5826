#pragma once

// Reconnect delays: exponential growth with full jitter, capped. Attempt n waits a uniformly
// random time between min and min(max, min * 2^n), so that a thousand agents that lost the same
// receiver do not come back in lockstep. Pure: the random source is injected, for tests.

#include <chrono>
#include <cstdint>
#include <functional>

namespace assas::transport {

class Backoff {
 public:
  // random() returns a uniformly distributed 64-bit value.
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max,
          std::function<uint64_t()> random);

  std::chrono::milliseconds next();
  void reset() { attempt_ = 0; }
  int attempt() const { return attempt_; }

 private:
  std::chrono::milliseconds min_;
  std::chrono::milliseconds max_;
  std::function<uint64_t()> random_;
  int attempt_ = 0;
};

}  // namespace assas::transport
