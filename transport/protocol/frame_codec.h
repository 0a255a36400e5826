#pragma once

// Encodes and decodes the frames of transport/protocol/frames.h. Wire layout of every frame:
//   u32 length (little-endian; counts the type byte and the body) | u8 type | body
// Bodies are fixed-width little-endian integers and varint-length byte strings (base/bytes.h), in
// the field order of the structs; docs/protocol.md lists them byte by byte.
//
// FrameDecoder is incremental: feed it whatever the socket delivered, then take frames out until it
// says it needs more. A length above max_frame_bytes is refused as soon as the 4 length bytes have
// arrived, before anything is allocated for the body.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "transport/protocol/frames.h"

namespace assas::transport {

inline constexpr uint32_t kFrameHeaderBytes = 5;

// Appends the encoded frame to out.
void encode_frame(const Frame& frame, std::string& out);

// The header of a batch frame (length, type, and the fixed fields before the payload), for
// senders that write the payload separately instead of copying it into one buffer first.
void encode_batch_frame_header(const BatchFrame& frame, std::string& out);

// Decodes one frame body (without the 5-byte header). BatchFrame::payload points into body.
Result<Frame> decode_frame_body(FrameType type, std::string_view body);

class FrameDecoder {
 public:
  explicit FrameDecoder(uint32_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}

  void feed(std::string_view bytes);
  // The next complete frame; std::nullopt when more bytes are needed. An error (kCorruption for a
  // malformed frame, kResourceExhausted for one over the limit) is final for the connection.
  // Views in the returned frame stay valid until the next feed() or next().
  Result<std::optional<Frame>> next();
  size_t buffered_bytes() const { return buffer_.size() - consumed_; }
  // why, saying that the peer closed in the middle of a frame when part of one is buffered.
  Status closed_mid_frame(const Status& why) const;

 private:
  uint32_t max_frame_bytes_;
  std::string buffer_;
  size_t consumed_ = 0;
};

}  // namespace assas::transport
