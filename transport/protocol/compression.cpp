#include "transport/protocol/compression.h"

#include <algorithm>

namespace assas::transport {
namespace {

// How the output grows for a zstd payload that does not state its content size.
constexpr size_t kDecompressStep = 64 << 10;

}  // namespace

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
  // The output grows with what the payload really inflates to, and never past the declared size,
  // so a frame that wants more fails instead of allocating. It used to be sized to the declared
  // size up front: then a batch declaring max_size bytes for a few bytes of payload made the
  // receiver allocate and zero max_size bytes (64 MiB by default), and keep them in its reused
  // buffer, for a lie. A frame that states its content size (ours always do) gets exactly that at
  // once, and zstd then decodes it in one pass as before.
  out.clear();
  size_t rc = ZSTD_DCtx_reset(dctx_, ZSTD_reset_session_only);
  if (ZSTD_isError(rc) != 0) {
    return internal_error(std::string("zstd could not reset its context: ") +
                          ZSTD_getErrorName(rc));
  }
  unsigned long long stated = ZSTD_getFrameContentSize(payload.data(), payload.size());
  // ZSTD_CONTENTSIZE_UNKNOWN and ZSTD_CONTENTSIZE_ERROR are huge values: they fall to
  // kDecompressStep.
  out.resize(std::min<size_t>(declared_size, stated <= declared_size ? stated : kDecompressStep));
  ZSTD_inBuffer in{payload.data(), payload.size(), 0};
  size_t filled = 0;
  for (;;) {
    ZSTD_outBuffer o{out.data(), out.size(), filled};
    size_t consumed_before = in.pos;
    rc = ZSTD_decompressStream(dctx_, &o, &in);
    bool progress = o.pos > filled || in.pos > consumed_before;
    filled = o.pos;
    if (ZSTD_isError(rc) != 0) {
      out.clear();
      return corruption(std::string("zstd batch does not decompress within its declared size: ") +
                        ZSTD_getErrorName(rc));
    }
    if (rc == 0 && in.pos == in.size) {
      break;  // every frame decoded and flushed, all input used
    }
    if (filled < out.size()) {
      // Room left and a frame unfinished: zstd needs input, and there is none (or it is stuck).
      if (in.pos == in.size || !progress) {
        out.clear();
        return corruption("zstd batch is cut short: its last frame is incomplete");
      }
      continue;  // the next frame of the payload
    }
    if (out.size() == declared_size) {
      if (!progress) {  // full, and zstd still has output for us
        out.clear();
        return corruption("zstd batch inflates past its declared size of " +
                          std::to_string(declared_size) + " bytes");
      }
      continue;  // once more with no room: either the frame ends here or it wants more
    }
    out.resize(std::min<size_t>(declared_size, std::max(out.size() * 2, kDecompressStep)));
  }
  if (filled != declared_size) {
    out.clear();
    return corruption("zstd batch decompressed to " + std::to_string(filled) +
                      " bytes, not the declared " + std::to_string(declared_size));
  }
  out.resize(filled);
  return Status::ok();
}

}  // namespace assas::transport
