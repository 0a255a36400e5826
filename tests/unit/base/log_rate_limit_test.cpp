#include "base/log_rate_limit.h"

#include <catch2/catch.hpp>

namespace assas::log {
namespace {

using namespace std::chrono_literals;

TEST_CASE("a repeated message is written up to its burst then counted until the window ends",
          "[log]") {
  RateLimiter limiter(3, 10s, 16);
  RateLimiter::Clock::time_point t0{};
  uint64_t suppressed = 99;
  for (int i = 0; i < 3; ++i) {
    REQUIRE(limiter.admit("connect failed", t0 + std::chrono::seconds(i), suppressed));
    REQUIRE(suppressed == 0);
  }
  for (int i = 0; i < 5; ++i) {
    REQUIRE_FALSE(limiter.admit("connect failed", t0 + 5s, suppressed));
  }
  // Another message is not held back by the first one's spell.
  REQUIRE(limiter.admit("disk full", t0 + 5s, suppressed));
  REQUIRE(suppressed == 0);
  // The first line after the window says how many were dropped, once.
  REQUIRE(limiter.admit("connect failed", t0 + 10s, suppressed));
  REQUIRE(suppressed == 5);
  REQUIRE(limiter.admit("connect failed", t0 + 11s, suppressed));
  REQUIRE(suppressed == 0);
}

TEST_CASE("the limiter tracks a bounded number of messages and lets untracked ones through",
          "[log]") {
  RateLimiter limiter(1, 10s, 2);
  RateLimiter::Clock::time_point t0{};
  uint64_t suppressed = 0;
  REQUIRE(limiter.admit("a", t0, suppressed));
  REQUIRE(limiter.admit("b", t0, suppressed));
  REQUIRE_FALSE(limiter.admit("a", t0, suppressed));
  // Full: a third message is written, never dropped for want of room.
  REQUIRE(limiter.admit("c", t0, suppressed));
  REQUIRE(limiter.admit("c", t0, suppressed));
  // Once b's window passed quietly it is forgotten, and c takes its place.
  REQUIRE(limiter.admit("c", t0 + 20s, suppressed));
  REQUIRE_FALSE(limiter.admit("c", t0 + 20s, suppressed));
  // a's count survives (it has lines to report).
  REQUIRE(limiter.admit("a", t0 + 20s, suppressed));
  REQUIRE(suppressed == 1);
}

}  // namespace
}  // namespace assas::log
