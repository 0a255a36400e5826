#pragma once

// Human units in configs: sizes ("64MiB", "1GB", "512KiB", "4096") and durations ("200ms", "5s",
// "1m", "2h"). Errors say what would be valid.

#include <chrono>
#include <cstdint>
#include <string_view>

#include "base/status.h"

namespace assas {

// Bytes. Binary (KiB, MiB, GiB, TiB) and decimal (KB, MB, GB, TB) suffixes, B or none for bytes.
Result<uint64_t> parse_size(std::string_view text);
// Durations in ns, us, ms, s, m, h; a bare number is refused, since its unit would be a guess.
Result<std::chrono::nanoseconds> parse_duration(std::string_view text);

}  // namespace assas
