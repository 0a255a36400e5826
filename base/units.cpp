#include "base/units.h"

#include <charconv>
#include <string>

namespace assas {
namespace {

struct Suffix {
  std::string_view name;
  uint64_t factor;
};

// Splits "64MiB" into 64 and "MiB"; fails on no digits or overflow.
bool split_number(std::string_view text, uint64_t& number, std::string_view& suffix) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, number);
  if (ec != std::errc() || ptr == text.data()) {
    return false;
  }
  suffix = std::string_view(ptr, static_cast<size_t>(end - ptr));
  while (!suffix.empty() && suffix.front() == ' ') {
    suffix.remove_prefix(1);
  }
  return true;
}

}  // namespace

Result<uint64_t> parse_size(std::string_view text) {
  static constexpr Suffix kSuffixes[] = {
      {"", 1},
      {"B", 1},
      {"KiB", 1ULL << 10},
      {"MiB", 1ULL << 20},
      {"GiB", 1ULL << 30},
      {"TiB", 1ULL << 40},
      {"KB", 1000ULL},
      {"MB", 1000ULL * 1000},
      {"GB", 1000ULL * 1000 * 1000},
      {"TB", 1000ULL * 1000 * 1000 * 1000},
  };
  uint64_t number = 0;
  std::string_view suffix;
  if (split_number(text, number, suffix)) {
    for (const Suffix& s : kSuffixes) {
      if (suffix == s.name) {
        if (number > UINT64_MAX / s.factor) {
          return invalid_argument("size '" + std::string(text) + "' is too large");
        }
        return number * s.factor;
      }
    }
  }
  return invalid_argument("'" + std::string(text) +
                          "' is not a size; write a whole number with an optional unit: B, KiB, "
                          "MiB, GiB, TiB, KB, MB, GB or TB (e.g. 64MiB)");
}

Result<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  static constexpr Suffix kSuffixes[] = {
      {"ns", 1},
      {"us", 1000ULL},
      {"ms", 1000ULL * 1000},
      {"s", 1000ULL * 1000 * 1000},
      {"m", 60ULL * 1000 * 1000 * 1000},
      {"h", 3600ULL * 1000 * 1000 * 1000},
  };
  uint64_t number = 0;
  std::string_view suffix;
  if (split_number(text, number, suffix)) {
    for (const Suffix& s : kSuffixes) {
      if (suffix == s.name) {
        if (number > static_cast<uint64_t>(INT64_MAX) / s.factor) {
          return invalid_argument("duration '" + std::string(text) + "' is too large");
        }
        return std::chrono::nanoseconds(static_cast<int64_t>(number * s.factor));
      }
    }
  }
  return invalid_argument("'" + std::string(text) +
                          "' is not a duration; write a whole number with a unit: ns, us, ms, s, "
                          "m or h (e.g. 200ms, 5s)");
}

}  // namespace assas
