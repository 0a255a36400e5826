#pragma once

// A Prometheus histogram of durations with fixed buckets (5 ms to 60 s, then +Inf): what
// assas_output_ack_latency_seconds reports. Counts are per bucket here; MetricsText makes them
// cumulative as the format wants. Plain data, summed over lanes with merge().

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace assas::agent {

class LatencyHistogram {
 public:
  // Upper bounds in seconds; a last bucket (+Inf) takes the rest.
  static constexpr std::array<double, 14> kBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                     1,     2.5,  5,     10,   30,  60,   120};

  void observe(std::chrono::steady_clock::duration elapsed) {
    double seconds = std::chrono::duration<double>(elapsed).count();
    size_t i = 0;
    while (i < kBounds.size() && seconds > kBounds[i]) {
      ++i;
    }
    ++counts_[i];
    sum_seconds_ += seconds;
  }
  void merge(const LatencyHistogram& other) {
    for (size_t i = 0; i < counts_.size(); ++i) {
      counts_[i] += other.counts_[i];
    }
    sum_seconds_ += other.sum_seconds_;
  }
  // counts()[i]: observations in bucket i alone; the last is above every bound.
  const std::array<uint64_t, kBounds.size() + 1>& counts() const { return counts_; }
  double sum_seconds() const { return sum_seconds_; }

 private:
  std::array<uint64_t, kBounds.size() + 1> counts_{};
  double sum_seconds_ = 0;
};

}  // namespace assas::agent
