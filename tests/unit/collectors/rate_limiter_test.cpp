// Per-source token buckets: bursts, refills, wait times, and which source is forgotten when the
// table is full, checked against a simple O(n) model. The random case prints its seed;
// ASSAS_TEST_SEED replays one.

#include "collectors/syslog/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace assas::collectors {
namespace {

uint64_t test_seed() {
  const char* env = std::getenv("ASSAS_TEST_SEED");  // NOLINT(concurrency-mt-unsafe): no threads
  return env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device{}();
}

// The rules of the header, written the slow and obvious way.
class ModelLimiter {
 public:
  ModelLimiter(double per_second, uint32_t burst, size_t max_sources)
      : per_ms_(per_second / 1000.0), burst_(burst), max_sources_(max_sources) {}

  bool allow(const std::string& source, uint64_t now) {
    auto it = std::find_if(buckets_.begin(), buckets_.end(),
                           [&](const Bucket& b) { return b.source == source; });
    if (it == buckets_.end()) {
      if (buckets_.size() >= max_sources_) {
        forget_one(now);
      }
      buckets_.push_back(Bucket{source, static_cast<double>(burst_), now, 0, 0});
      it = buckets_.end() - 1;
    } else if (now > it->updated) {
      it->tokens = std::min(static_cast<double>(burst_),
                            it->tokens + static_cast<double>(now - it->updated) * per_ms_);
      it->updated = now;
    }
    bool allowed = it->tokens >= 1.0 - 1e-9;
    if (allowed) {
      it->tokens = std::max(0.0, it->tokens - 1.0);
    }
    it->full_at = it->updated + static_cast<uint64_t>(std::ceil((burst_ - it->tokens) / per_ms_));
    it->seen = ++clock_;
    return allowed;
  }
  size_t sources() const { return buckets_.size(); }

 private:
  struct Bucket {
    std::string source;
    double tokens;
    uint64_t updated;
    uint64_t full_at;
    uint64_t seen;
  };

  // The bucket that became full first, ties to the least recently seen; else the least recently
  // seen.
  void forget_one(uint64_t now) {
    auto full =
        std::min_element(buckets_.begin(), buckets_.end(), [](const auto& a, const auto& b) {
          return a.full_at != b.full_at ? a.full_at < b.full_at : a.seen < b.seen;
        });
    if (full->full_at > now) {
      full = std::min_element(buckets_.begin(), buckets_.end(),
                              [](const auto& a, const auto& b) { return a.seen < b.seen; });
    }
    buckets_.erase(full);
  }

  double per_ms_;
  uint32_t burst_;
  size_t max_sources_;
  std::vector<Bucket> buckets_;
  uint64_t clock_ = 0;
};

}  // namespace

TEST_CASE("a source may send a burst and then one message per refill", "[syslog][rate]") {
  RateLimiter limiter(2.0, 3);  // 2 per second: one token every 500 ms
  for (int k = 0; k < 3; ++k) {
    REQUIRE(limiter.allow("a", 1000));
  }
  REQUIRE_FALSE(limiter.allow("a", 1000));
  REQUIRE(limiter.wait_ms("a", 1000) == 500);
  REQUIRE_FALSE(limiter.allow("a", 1499));
  REQUIRE(limiter.wait_ms("a", 1499) == 1);
  REQUIRE(limiter.allow("a", 1500));
  REQUIRE_FALSE(limiter.allow("a", 1500));
  REQUIRE(limiter.wait_ms("a", 1500) == 500);
}

TEST_CASE("a bucket refills up to the burst and no further", "[syslog][rate]") {
  RateLimiter limiter(10.0, 2);
  REQUIRE(limiter.allow("a", 0));
  REQUIRE(limiter.allow("a", 0));
  REQUIRE_FALSE(limiter.allow("a", 0));
  // An hour later the bucket holds 2, not 36000.
  REQUIRE(limiter.allow("a", 3'600'000));
  REQUIRE(limiter.allow("a", 3'600'000));
  REQUIRE_FALSE(limiter.allow("a", 3'600'000));
}

TEST_CASE("sources have buckets of their own", "[syslog][rate]") {
  RateLimiter limiter(1.0, 1);
  REQUIRE(limiter.allow("10.0.0.1", 0));
  REQUIRE_FALSE(limiter.allow("10.0.0.1", 0));
  REQUIRE(limiter.allow("10.0.0.2", 0));
  REQUIRE(limiter.sources() == 2);
  REQUIRE(limiter.wait_ms("10.0.0.3", 0) == 0);  // unknown: it would start full
  REQUIRE(limiter.wait_ms("10.0.0.2", 250) == 750);
}

TEST_CASE("waiting exactly wait_ms always gives a token", "[syslog][rate]") {
  for (double rate : {0.3, 1.0, 3.0, 7.0, 1000.0, 33333.3}) {
    CAPTURE(rate);
    RateLimiter limiter(rate, 1);
    uint64_t now = 12345;
    for (int k = 0; k < 200; ++k) {
      if (!limiter.allow("s", now)) {
        uint64_t wait = limiter.wait_ms("s", now);
        REQUIRE(wait > 0);
        REQUIRE(limiter.wait_ms("s", now + wait) == 0);
        now += wait;
        REQUIRE(limiter.allow("s", now));
      }
      now += static_cast<uint64_t>(k % 3);
    }
  }
}

TEST_CASE("a clock going backwards adds no tokens", "[syslog][rate]") {
  RateLimiter limiter(1.0, 1);
  REQUIRE(limiter.allow("a", 10'000));
  REQUIRE_FALSE(limiter.allow("a", 5'000));
  REQUIRE_FALSE(limiter.allow("a", 10'999));
  REQUIRE(limiter.allow("a", 11'000));
}

TEST_CASE("odd settings are raised to their minimum", "[syslog][rate]") {
  RateLimiter limiter(std::nan(""), 0, 0);
  REQUIRE(limiter.allow("a", 0));  // burst 1
  REQUIRE_FALSE(limiter.allow("a", 0));
  REQUIRE(limiter.wait_ms("a", 0) == 1'000'000);  // 0.001 per second
  REQUIRE(limiter.allow("b", 0));                 // room for 1: "a" was forgotten
  REQUIRE(limiter.sources() == 1);
  RateLimiter negative(-5.0, 1);
  REQUIRE(negative.allow("a", 0));
  REQUIRE(negative.wait_ms("a", 0) == 1'000'000);
}

TEST_CASE("a full table forgets a source whose bucket is full again first", "[syslog][rate]") {
  RateLimiter limiter(1.0, 2, 3);
  REQUIRE(limiter.allow("old", 0));  // full again at 1000
  REQUIRE(limiter.allow("busy", 500));
  REQUIRE(limiter.allow("busy", 500));  // empty: full again at 2500
  REQUIRE(limiter.allow("recent", 1500));
  REQUIRE(limiter.sources() == 3);
  REQUIRE(limiter.allow("new", 2000));  // only "old" is full again at 2000: it goes
  REQUIRE(limiter.sources() == 3);
  // The others kept their buckets of 1.5 tokens (forgotten, they would start with 2).
  REQUIRE(limiter.allow("busy", 2000));
  REQUIRE_FALSE(limiter.allow("busy", 2000));
  REQUIRE(limiter.allow("recent", 2000));
  REQUIRE_FALSE(limiter.allow("recent", 2000));
  REQUIRE(limiter.sources() == 3);
}

TEST_CASE("a full table forgets a refilled source even when it was seen recently",
          "[syslog][rate]") {
  RateLimiter limiter(1.0, 10, 2);
  for (int k = 0; k < 10; ++k) {
    REQUIRE(limiter.allow("drained", 0));  // empty: full again at 10000
  }
  REQUIRE(limiter.allow("light", 100));  // full again at 1100, seen last
  REQUIRE(limiter.allow("new", 2000));   // forgets "light", not the least recently seen
  // "drained" kept its bucket: 2 tokens at 2000, where a new one would have 10.
  REQUIRE(limiter.allow("drained", 2000));
  REQUIRE(limiter.allow("drained", 2000));
  REQUIRE_FALSE(limiter.allow("drained", 2000));
}

TEST_CASE("a full table with no full bucket forgets the least recently seen source",
          "[syslog][rate]") {
  RateLimiter limiter(1.0, 1, 2);
  REQUIRE(limiter.allow("a", 0));
  REQUIRE(limiter.allow("b", 10));
  REQUIRE(limiter.allow("c", 20));  // forgets "a"
  REQUIRE(limiter.sources() == 2);
  REQUIRE_FALSE(limiter.allow("b", 30));  // still limited
  REQUIRE(limiter.allow("a", 40));        // forgotten: a full bucket again; forgets "c"
  REQUIRE_FALSE(limiter.allow("b", 50));
}

TEST_CASE("random traffic agrees with a simple model and memory stays bounded", "[syslog][rate]") {
  uint64_t seed = test_seed();
  INFO("seed " << seed << " (replay with ASSAS_TEST_SEED=" << seed << ")");
  std::mt19937_64 rng(seed);
  auto pick = [&](uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
  };
  for (int round = 0; round < 40; ++round) {
    double rate = static_cast<double>(pick(1, 2000)) / 100.0;
    auto burst = static_cast<uint32_t>(pick(1, 5));
    size_t max_sources = pick(1, 8);
    CAPTURE(round, rate, burst, max_sources);
    RateLimiter limiter(rate, burst, max_sources);
    ModelLimiter model(rate, burst, max_sources);
    uint64_t now = pick(0, 1'000'000);
    for (int step = 0; step < 1000; ++step) {
      now += pick(0, 3) == 0 ? pick(0, 2000) : pick(0, 20);
      std::string source = "10.0.0." + std::to_string(pick(0, 12));
      CAPTURE(step, now, source);
      REQUIRE(limiter.allow(source, now) == model.allow(source, now));
      REQUIRE(limiter.sources() == model.sources());
      REQUIRE(limiter.sources() <= max_sources);
    }
  }
}

}  // namespace assas::collectors
