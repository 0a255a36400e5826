#pragma once

// CRC32C (Castagnoli), the checksum of every disk-buffer record. Uses the SSE4.2 or ARMv8 CRC
// instruction where the CPU has it, and a table otherwise; the result is the same on every path.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace assas::crc32c {

// Continues a CRC: extend(extend(0, a), b) == value(a + b).
uint32_t extend(uint32_t crc, const char* data, size_t size);

inline uint32_t value(std::string_view data) {
  return extend(0, data.data(), data.size());
}

// A CRC stored next to the data it covers is masked (as leveldb does), so that a CRC of bytes that
// themselves contain CRCs does not degenerate.
inline uint32_t mask(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8U;
}
inline uint32_t unmask(uint32_t masked) {
  uint32_t rot = masked - 0xa282ead8U;
  return (rot >> 17) | (rot << 15);
}

}  // namespace assas::crc32c
