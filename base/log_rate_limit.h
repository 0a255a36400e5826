#pragma once

// Repeated warnings and errors are limited per message, so that a fault that repeats (a receiver
// refusing every connection, a sender flooding malformed lines) cannot flood journald, which would
// then drop lines of its own, ours among them. Each message (the sentence, not its fields) may
// write `burst` lines per `window`; further lines of it are counted, and the first line of it
// written after the window carries suppressed=<count>. Thread-safe.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace assas::log {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // max_messages bounds the memory: once that many messages are tracked, lines of a message not
  // yet tracked are written unlimited rather than forgotten.
  RateLimiter(size_t burst, Clock::duration window, size_t max_messages);

  // True if a line of message may be written at now; suppressed is then set to how many of its
  // lines were dropped since the last one written (0 if none).
  bool admit(std::string_view message, Clock::time_point now, uint64_t& suppressed);

 private:
  struct Spell {
    Clock::time_point window_start;
    size_t written = 0;       // in this window
    uint64_t suppressed = 0;  // since the last line written
  };
  void forget_quiet(Clock::time_point now);

  size_t burst_;
  Clock::duration window_;
  size_t max_messages_;
  std::mutex mutex_;
  std::unordered_map<std::string, Spell> spells_;
};

}  // namespace assas::log
