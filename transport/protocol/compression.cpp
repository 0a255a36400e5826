#include "transport/protocol/compression.h"

namespace assas::transport {

std::string_view codec_name(Codec codec) {
  switch (codec) {
    case Codec::kNone:
      return "none";
    case Codec::kZstd:
      return "zstd";
  }
  return "unknown";
}

Result<Codec> codec_from_byte(uint8_t value) {
  switch (value) {
    case 0:
      return Codec::kNone;
    case 1:
      return Codec::kZstd;
    default:
      return corruption("unknown codec " + std::to_string(value));
  }
}

Compressor::Compressor(int level) : cctx_(ZSTD_createCCtx()), level_(level) {}
Compressor::~Compressor() {
  ZSTD_freeCCtx(cctx_);
}

Status Compressor::compress(Codec codec, std::string_view raw, std::string& out) {
  if (codec == Codec::kNone) {
    out.append(raw);
    return Status::ok();
  }
  if (cctx_ == nullptr) {
    return resource_exhausted("zstd could not allocate a compression context");
  }
  size_t start = out.size();
  out.resize(start + ZSTD_compressBound(raw.size()));
  size_t n = ZSTD_compressCCtx(cctx_, out.data() + start, out.size() - start, raw.data(),
                               raw.size(), level_);
  if (ZSTD_isError(n) != 0) {
    out.resize(start);
    return internal_error(std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
  }
  out.resize(start + n);
  return Status::ok();
}

Decompressor::Decompressor() : dctx_(ZSTD_createDCtx()) {}
Decompressor::~Decompressor() {
  ZSTD_freeDCtx(dctx_);
}

Status Decompressor::decompress(Codec codec, std::string_view payload, uint32_t declared_size,
                                uint32_t max_size, std::string& out) {
  if (declared_size > max_size) {
    return resource_exhausted("batch declares " + std::to_string(declared_size) +
                              " bytes uncompressed, more than the limit of " +
                              std::to_string(max_size));
  }
  if (codec == Codec::kNone) {
    if (payload.size() != declared_size) {
      return corruption("uncompressed batch size does not match its declared size");
    }
    out.assign(payload);
    return Status::ok();
  }
  if (dctx_ == nullptr) {
    return resource_exhausted("zstd could not allocate a decompression context");
  }
  // The output buffer is exactly the declared size: zstd cannot write past it, and a frame that
  // wants more fails with "destination buffer too small" instead of allocating.
  out.resize(declared_size);
  size_t n = ZSTD_decompressDCtx(dctx_, out.data(), out.size(), payload.data(), payload.size());
  if (ZSTD_isError(n) != 0) {
    out.clear();
    return corruption(std::string("zstd batch does not decompress within its declared size: ") +
                      ZSTD_getErrorName(n));
  }
  if (n != declared_size) {
    out.clear();
    return corruption("zstd batch decompressed to " + std::to_string(n) +
                      " bytes, not the declared " + std::to_string(declared_size));
  }
  return Status::ok();
}

}  // namespace assas::transport
