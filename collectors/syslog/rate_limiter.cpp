#include "collectors/syslog/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace assas::collectors {
namespace {

constexpr double kMinPerSecond = 0.001;
constexpr double kMaxPerSecond = 1e9;
// Refills are sums of products of doubles: a bucket refilled for exactly wait_ms() may fall short
// of a whole token by a rounding error, which must not deny the message.
constexpr double kEpsilon = 1e-9;

}  // namespace

RateLimiter::RateLimiter(double per_second, uint32_t burst, size_t max_sources)
    // Written so that NaN becomes the minimum too.
    : per_ms_((per_second >= kMinPerSecond ? std::min(per_second, kMaxPerSecond) : kMinPerSecond) /
              1000.0),
      burst_(std::max<uint32_t>(burst, 1)),
      max_sources_(std::max<size_t>(max_sources, 1)) {}

void RateLimiter::refill(Bucket& bucket, uint64_t now_ms) const {
  if (now_ms > bucket.updated_ms) {
    double earned = static_cast<double>(now_ms - bucket.updated_ms) * per_ms_;
    bucket.tokens = std::min(burst_, bucket.tokens + earned);
    bucket.updated_ms = now_ms;
  }
}

bool RateLimiter::allow(std::string_view source, uint64_t now_ms) {
  auto it = buckets_.find(source);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_sources_) {
      forget_one(now_ms);
    }
    it = buckets_.emplace(std::string(source), Bucket{burst_, now_ms, now_ms, 0}).first;
  } else {
    unindex(it->second);
    refill(it->second, now_ms);
  }
  Bucket& bucket = it->second;
  bool allowed = bucket.tokens >= 1.0 - kEpsilon;
  if (allowed) {
    bucket.tokens = std::max(0.0, bucket.tokens - 1.0);
  }
  double missing = burst_ - bucket.tokens;
  bucket.full_at_ms = bucket.updated_ms + static_cast<uint64_t>(std::ceil(missing / per_ms_));
  bucket.seen = ++seen_clock_;
  index(it);
  return allowed;
}

uint64_t RateLimiter::wait_ms(std::string_view source, uint64_t now_ms) const {
  auto it = buckets_.find(source);
  if (it == buckets_.end()) {
    return 0;
  }
  Bucket bucket = it->second;
  refill(bucket, now_ms);
  if (bucket.tokens >= 1.0 - kEpsilon) {
    return 0;
  }
  // The first whole ms at which allow() would see enough: aiming at 1 - kEpsilon, as allow()
  // does, keeps a rounding error (1.0000000001 ms) from adding a whole ms.
  return static_cast<uint64_t>(std::ceil((1.0 - kEpsilon - bucket.tokens) / per_ms_));
}

void RateLimiter::index(Buckets::iterator it) {
  by_full_.emplace(std::make_pair(it->second.full_at_ms, it->second.seen), &it->first);
  by_seen_.emplace(it->second.seen, &it->first);
}

void RateLimiter::unindex(const Bucket& bucket) {
  by_full_.erase(std::make_pair(bucket.full_at_ms, bucket.seen));
  by_seen_.erase(bucket.seen);
}

void RateLimiter::forget_one(uint64_t now_ms) {
  if (by_seen_.empty()) {
    return;
  }
  auto full = by_full_.begin();
  const std::string* key = full->first.first <= now_ms ? full->second : by_seen_.begin()->second;
  auto it = buckets_.find(*key);
  unindex(it->second);
  buckets_.erase(it);
}

}  // namespace assas::collectors
