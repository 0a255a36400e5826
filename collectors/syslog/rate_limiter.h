#pragma once

// Per-source token buckets: each source (e.g. a sender's address) may send per_second messages
// per second on average and burst of them at once. A new source starts with a full bucket.
//
// Memory is bounded: at most max_sources buckets are kept. When a new source comes and there is
// no room, a source whose bucket has refilled to full is forgotten (it loses nothing: it would
// start full again), the one that became full first; only when none is full, the least recently
// seen source is. Both are found in O(log n): the buckets are indexed by the time they become
// full and by when they were last seen, so allow() costs a hash lookup and a few tree updates.
//
// Time is passed in (a monotonic clock in ms), so that tests need no sleeps; a time earlier than
// one already seen counts as no time passing. Not thread-safe: one owner, one thread.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace assas::collectors {

class RateLimiter {
 public:
  // per_second is raised to at least 0.001 and lowered to at most 1e9, burst to at least 1,
  // max_sources to at least 1.
  RateLimiter(double per_second, uint32_t burst, size_t max_sources = 65536);

  // Not copyable: the indexes point at the keys of buckets_. A move keeps them valid (the nodes
  // move with the map).
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;
  RateLimiter(RateLimiter&&) = default;
  RateLimiter& operator=(RateLimiter&&) = default;
  ~RateLimiter() = default;

  // Takes one token for source at now_ms; false: over the limit (no token taken).
  bool allow(std::string_view source, uint64_t now_ms);
  // How long until source has a token again (0 if it has one now, or is not tracked).
  uint64_t wait_ms(std::string_view source, uint64_t now_ms) const;
  size_t sources() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens = 0;
    uint64_t updated_ms = 0;  // when tokens was computed
    uint64_t full_at_ms = 0;  // when tokens reaches burst_, if no token is taken before
    uint64_t seen = 0;        // the value of seen_clock_ at the last allow()
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Buckets = std::unordered_map<std::string, Bucket, Hash, std::equal_to<>>;

  void refill(Bucket& bucket, uint64_t now_ms) const;
  void index(Buckets::iterator it);
  void unindex(const Bucket& bucket);
  void forget_one(uint64_t now_ms);

  double per_ms_;
  double burst_;
  size_t max_sources_;
  Buckets buckets_;
  // The keys are those of buckets_, whose addresses are stable (a node-based map).
  std::map<std::pair<uint64_t, uint64_t>, const std::string*> by_full_;  // (full_at_ms, seen)
  std::map<uint64_t, const std::string*> by_seen_;
  uint64_t seen_clock_ = 0;
};

}  // namespace assas::collectors
