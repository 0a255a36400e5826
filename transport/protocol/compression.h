#pragma once

// Batch payload codecs. Decompression is bounded: a payload that would inflate past the size its
// sender declared (or past the caller's limit) is refused, so a decompression bomb costs nothing.

#include <cstdint>
#include <string>
#include <string_view>

#include <zstd.h>

#include "base/status.h"

namespace assas::transport {

enum class Codec : uint8_t { kNone = 0, kZstd = 1 };

std::string_view codec_name(Codec codec);
// Parses a wire byte; fails on values we do not know.
Result<Codec> codec_from_byte(uint8_t value);

// Reusable zstd compression context. One per thread; not thread-safe.
class Compressor {
 public:
  explicit Compressor(int level);
  ~Compressor();
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;

  // Appends the compressed form of raw to out (kNone copies).
  Status compress(Codec codec, std::string_view raw, std::string& out);

 private:
  ZSTD_CCtx* cctx_;
  int level_;
};

// Reusable zstd decompression context. One per thread; not thread-safe.
class Decompressor {
 public:
  Decompressor();
  ~Decompressor();
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;

  // Decompresses payload into out (replacing it), which must come to exactly declared_size bytes;
  // declared_size itself must not exceed max_size. Anything else is kCorruption (or
  // kResourceExhausted for a declared size over the limit).
  Status decompress(Codec codec, std::string_view payload, uint32_t declared_size,
                    uint32_t max_size, std::string& out);

 private:
  ZSTD_DCtx* dctx_;
};

}  // namespace assas::transport
