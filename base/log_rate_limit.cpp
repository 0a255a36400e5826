#include "base/log_rate_limit.h"

namespace assas::log {

RateLimiter::RateLimiter(size_t burst, Clock::duration window, size_t max_messages)
    : burst_(burst), window_(window), max_messages_(max_messages) {}

bool RateLimiter::admit(std::string_view message, Clock::time_point now, uint64_t& suppressed) {
  suppressed = 0;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = spells_.find(std::string(message));
  if (it == spells_.end()) {
    if (spells_.size() >= max_messages_) {
      forget_quiet(now);
      if (spells_.size() >= max_messages_) {
        return true;
      }
    }
    it = spells_.emplace(std::string(message), Spell{now, 0, 0}).first;
  }
  Spell& spell = it->second;
  if (now - spell.window_start >= window_) {
    spell.window_start = now;
    spell.written = 0;
  }
  if (spell.written >= burst_) {
    ++spell.suppressed;
    return false;
  }
  ++spell.written;
  suppressed = spell.suppressed;
  spell.suppressed = 0;
  return true;
}

// Messages whose window has passed with nothing suppressed carry no state worth keeping.
void RateLimiter::forget_quiet(Clock::time_point now) {
  for (auto it = spells_.begin(); it != spells_.end();) {
    if (now - it->second.window_start >= window_ && it->second.suppressed == 0) {
      it = spells_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace assas::log
