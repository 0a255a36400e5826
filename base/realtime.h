#pragma once

// The wall clock, for the read time of events (what the SOC shows as "received by the agent").
// Not for durations: use uv_now or CLOCK_MONOTONIC for those.

#include <cstdint>
#include <ctime>

namespace assas {

// Nanoseconds since the Unix epoch.
inline int64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace assas
