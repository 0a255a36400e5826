#include "transport/client/backoff.h"

#include <algorithm>

namespace assas::transport {

Backoff::Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max,
                 std::function<uint64_t()> random)
    : min_(std::max(min, std::chrono::milliseconds(1))),
      max_(std::max(max, min_)),
      random_(std::move(random)) {}

std::chrono::milliseconds Backoff::next() {
  // Stop doubling once past max, so the shift never overflows however long the outage lasts.
  int64_t cap = min_.count();
  for (int i = 0; i < attempt_ && cap < max_.count(); ++i) {
    cap *= 2;
  }
  cap = std::min(cap, static_cast<int64_t>(max_.count()));
  ++attempt_;
  auto span = static_cast<uint64_t>(cap - min_.count()) + 1;
  return std::chrono::milliseconds(min_.count() + static_cast<int64_t>(random_() % span));
}

}  // namespace assas::transport
