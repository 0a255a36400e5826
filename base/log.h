#pragma once

// The process's own log: one line per event on stderr (journald picks it up under systemd), as a
// sentence followed by key=value fields. Thread-safe; each line is written with one write(2).
//   ASSAS_LOG(kWarn, "segment tail is torn; skipping it", kv("segment", path), kv("bytes", n));

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace assas::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void set_min_level(Level level);
Level min_level();
// Parses "debug", "info", "warn" or "error".
bool parse_level(std::string_view text, Level& out);
// Prefixes every line with the program name, e.g. "assas-agent".
void set_program(std::string_view name);

// One key=value field; values with spaces or quotes are quoted and escaped.
std::string kv(std::string_view key, std::string_view value);
std::string kv(std::string_view key, const char* value);
std::string kv(std::string_view key, int64_t value);
std::string kv(std::string_view key, uint64_t value);
std::string kv(std::string_view key, int value);
std::string kv(std::string_view key, unsigned value);
std::string kv(std::string_view key, double value);

void write_fields(Level level, std::string_view message, std::initializer_list<std::string> fields);

// write(level, "sentence", kv(...), kv(...)): the fields are strings made by kv().
template <typename... Fields>
void write(Level level, std::string_view message, Fields&&... fields) {
  write_fields(level, message, {std::string(std::forward<Fields>(fields))...});
}

}  // namespace assas::log

#define ASSAS_LOG(level, ...)                                       \
  do {                                                              \
    if (::assas::log::Level::level >= ::assas::log::min_level()) {  \
      ::assas::log::write(::assas::log::Level::level, __VA_ARGS__); \
    }                                                               \
  } while (false)

// Invariants only; never for anything that came from outside. Always on.
#define ASSAS_CHECK(cond, msg)                                    \
  do {                                                            \
    if (!(cond)) {                                                \
      ::assas::log::check_failed(#cond, msg, __FILE__, __LINE__); \
    }                                                             \
  } while (false)

namespace assas::log {
[[noreturn]] void check_failed(const char* cond, const char* msg, const char* file, int line);
}
