#pragma once

// The frames of the native Assas protocol (docs/protocol.md). Both ends are ours. On the wire each
// frame is: u32 length (of type + body, little-endian) | u8 type | body; lengths are checked
// against the receiver's limit before anything is allocated. frame_codec.h encodes and decodes.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "transport/protocol/chain.h"
#include "transport/protocol/compression.h"

namespace assas::transport {

// Version 2 added the chain fields of BatchFrame (docs/integrity.md).
inline constexpr uint16_t kProtocolVersion = 2;

enum class FrameType : uint8_t {
  kHello = 1,    // agent → receiver, first frame
  kHelloOk = 2,  // receiver → agent, answer to hello
  kBatch = 3,    // agent → receiver
  kAck = 4,      // receiver → agent
  kPing = 5,     // either way: heartbeat
  kPong = 6,     // answer to ping
  kError = 7,    // either way, then the sender closes
};

struct HelloFrame {
  uint16_t version = kProtocolVersion;
  std::string agent_id;  // what the agent calls itself; the receiver trusts its certificate instead
  std::string host;
  uint64_t stream_id = 0;  // the agent's disk-buffer stream (see agent/buffer/disk_buffer.h)
};

struct HelloOkFrame {
  uint16_t version = kProtocolVersion;
  uint64_t stored_upto = 0;      // highest seq of this stream the receiver has durably stored
  uint32_t window_batches = 0;   // credits: batches the agent may have unacknowledged in flight
  uint64_t window_bytes = 0;     // credits: payload bytes likewise
  uint32_t max_frame_bytes = 0;  // the largest frame the receiver accepts
};

struct BatchFrame {
  uint64_t seq = 0;
  uint32_t event_count = 0;
  uint32_t raw_size = 0;  // size after decompression, checked by the receiver
  Codec codec = Codec::kZstd;
  uint8_t chain_flags = 0;  // BatchChain::k*
  uint64_t prev_seq = 0;
  Digest prev_link{};
  std::string_view signature;  // empty, or a checkpoint signature; points into the frame's buffer
  std::string_view payload;    // points into the decoded frame's buffer
};

struct AckFrame {
  uint64_t stored_upto = 0;  // everything of this stream up to here is durably stored
  uint32_t window_batches = 0;
  uint64_t window_bytes = 0;
};

struct PingFrame {
  uint64_t nonce = 0;
};
struct PongFrame {
  uint64_t nonce = 0;
};

struct ErrorFrame {
  uint16_t code = 0;  // a StatusCode value
  std::string message;
};

using Frame =
    std::variant<HelloFrame, HelloOkFrame, BatchFrame, AckFrame, PingFrame, PongFrame, ErrorFrame>;

}  // namespace assas::transport
