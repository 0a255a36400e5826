#include "base/log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include <unistd.h>

#include "base/log_rate_limit.h"

namespace assas::log {
namespace {

std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};
char g_program[64] = "assas";

// Warnings and errors: 10 lines of one message per 10 s, then counted (log_rate_limit.h).
RateLimiter& repeat_limiter() {
  static RateLimiter limiter(10, std::chrono::seconds(10), 1024);
  return limiter;
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "?";
}

bool needs_quotes(std::string_view v) {
  if (v.empty()) {
    return true;
  }
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20 ||
        c == 0x7f) {
      return true;
    }
  }
  return false;
}

}  // namespace

void set_min_level(Level level) {
  g_min_level.store(static_cast<int>(level));
}
Level min_level() {
  return static_cast<Level>(g_min_level.load(std::memory_order_relaxed));
}

bool parse_level(std::string_view text, Level& out) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (text == level_name(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

void set_program(std::string_view name) {
  size_t n = std::min(name.size(), sizeof g_program - 1);
  name.copy(g_program, n);
  g_program[n] = '\0';
}

std::string kv(std::string_view key, std::string_view value) {
  std::string out(key);
  out += '=';
  if (!needs_quotes(value)) {
    out += value;
    return out;
  }
  // Control bytes are escaped so that a hostile value can never start a forged log line.
  out += '"';
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}
std::string kv(std::string_view key, const char* value) {
  return kv(key, std::string_view(value ? value : ""));
}
std::string kv(std::string_view key, int64_t value) {
  return kv(key, std::to_string(value));
}
std::string kv(std::string_view key, uint64_t value) {
  return kv(key, std::to_string(value));
}
std::string kv(std::string_view key, int value) {
  return kv(key, std::to_string(value));
}
std::string kv(std::string_view key, unsigned value) {
  return kv(key, std::to_string(value));
}
std::string kv(std::string_view key, double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", value);
  return kv(key, std::string_view(buf));
}

void write_fields(Level level, std::string_view message,
                  std::initializer_list<std::string> fields) {
  uint64_t suppressed = 0;
  if (level >= Level::kWarn &&
      !repeat_limiter().admit(message, RateLimiter::Clock::now(), suppressed)) {
    return;
  }
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  tm utc{};
  gmtime_r(&now.tv_sec, &utc);
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(now.tv_nsec / 1000000));
  std::string line;
  line.reserve(128);
  line += stamp;
  line += ' ';
  line += g_program;
  line += ' ';
  line += level_name(level);
  line += ' ';
  for (char c : message) {
    // Messages are ours, but may embed a name from a config or peer: keep them on one line.
    line += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
  }
  for (const std::string& f : fields) {
    line += ' ';
    line += f;
  }
  if (suppressed > 0) {
    line += ' ';
    line += kv("suppressed", suppressed);  // lines of this message dropped since the last one
  }
  line += '\n';
  // One write per line so concurrent threads do not interleave; a failed log write has nowhere
  // better to go.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

void check_failed(const char* cond, const char* msg, const char* file, int line) {
  std::fprintf(stderr, "%s fatal: CHECK(%s) failed: %s at %s:%d\n", g_program, cond, msg, file,
               line);
  std::abort();
}

}  // namespace assas::log
