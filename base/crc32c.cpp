#include "base/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#elif defined(__aarch64__) && defined(__ARM_FEATURE_CRC32)
#include <arm_acle.h>
#endif

namespace assas::crc32c {
namespace {

constexpr uint32_t kPolynomial = 0x82f63b78U;  // Castagnoli, reflected

// Slicing-by-8 tables, built once at compile time.
constexpr std::array<std::array<uint32_t, 256>, 8> make_tables() {
  std::array<std::array<uint32_t, 256>, 8> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) {
      c = (c & 1) ? (c >> 1) ^ kPolynomial : c >> 1;
    }
    t[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; ++i) {
    for (size_t s = 1; s < 8; ++s) {
      t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
    }
  }
  return t;
}

constexpr auto kTables = make_tables();

uint32_t extend_portable(uint32_t crc, const uint8_t* p, size_t n) {
  uint32_t c = ~crc;
  while (n >= 8) {
    uint64_t word = 0;
    std::memcpy(&word, p, 8);  // little-endian hosts only: x86_64 and aarch64
    uint32_t lo = static_cast<uint32_t>(word) ^ c;
    auto hi = static_cast<uint32_t>(word >> 32);
    c = kTables[7][lo & 0xff] ^ kTables[6][(lo >> 8) & 0xff] ^ kTables[5][(lo >> 16) & 0xff] ^
        kTables[4][lo >> 24] ^ kTables[3][hi & 0xff] ^ kTables[2][(hi >> 8) & 0xff] ^
        kTables[1][(hi >> 16) & 0xff] ^ kTables[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) {
    c = kTables[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  }
  return ~c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t extend_sse42(uint32_t crc, const uint8_t* p, size_t n) {
  uint64_t c = ~crc;
  while (n >= 8) {
    uint64_t word = 0;
    std::memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<uint32_t>(c);
  while (n-- > 0) {
    c32 = _mm_crc32_u8(c32, *p++);
  }
  return ~c32;
}

bool cpu_has_sse42() {
  static const bool has = __builtin_cpu_supports("sse4.2");
  return has;
}
#endif

}  // namespace

uint32_t extend(uint32_t crc, const char* data, size_t size) {
  const auto* p = reinterpret_cast<const uint8_t*>(data);
#if defined(__x86_64__)
  if (cpu_has_sse42()) {
    return extend_sse42(crc, p, size);
  }
#elif defined(__aarch64__) && defined(__ARM_FEATURE_CRC32)
  uint32_t c = ~crc;
  while (size >= 8) {
    uint64_t word = 0;
    std::memcpy(&word, p, 8);
    c = __crc32cd(c, word);
    p += 8;
    size -= 8;
  }
  while (size-- > 0) {
    c = __crc32cb(c, *p++);
  }
  return ~c;
#endif
  return extend_portable(crc, p, size);
}

}  // namespace assas::crc32c
