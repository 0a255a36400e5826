#include "transport/protocol/frame_codec.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "base/bytes.h"

namespace assas::transport {
namespace {

constexpr size_t kMaxTextBytes = 1024;  // ids, host names and error messages
// The largest signature of any key type we sign with (RSA 8192 is 1024 bytes), with room to spare.
constexpr size_t kMaxSignatureBytes = 2048;

template <typename T>
constexpr FrameType frame_type_of() {
  if constexpr (std::is_same_v<T, HelloFrame>) {
    return FrameType::kHello;
  } else if constexpr (std::is_same_v<T, HelloOkFrame>) {
    return FrameType::kHelloOk;
  } else if constexpr (std::is_same_v<T, BatchFrame>) {
    return FrameType::kBatch;
  } else if constexpr (std::is_same_v<T, AckFrame>) {
    return FrameType::kAck;
  } else if constexpr (std::is_same_v<T, PingFrame>) {
    return FrameType::kPing;
  } else if constexpr (std::is_same_v<T, PongFrame>) {
    return FrameType::kPong;
  } else {
    static_assert(std::is_same_v<T, ErrorFrame>);
    return FrameType::kError;
  }
}

std::string_view clip(std::string_view text) {
  return text.substr(0, kMaxTextBytes);
}

void encode_body(const HelloFrame& f, std::string& out) {
  put_u16(out, f.version);
  put_bytes(out, clip(f.agent_id));
  put_bytes(out, clip(f.host));
  put_u64(out, f.stream_id);
}
void encode_body(const HelloOkFrame& f, std::string& out) {
  put_u16(out, f.version);
  put_u64(out, f.stored_upto);
  put_u32(out, f.window_batches);
  put_u64(out, f.window_bytes);
  put_u32(out, f.max_frame_bytes);
}
void encode_batch_fields(const BatchFrame& f, std::string& out) {
  put_u64(out, f.seq);
  put_u32(out, f.event_count);
  put_u32(out, f.raw_size);
  put_u8(out, static_cast<uint8_t>(f.codec));
  put_u8(out, f.chain_flags);
  put_u64(out, f.prev_seq);
  out.append(reinterpret_cast<const char*>(f.prev_link.data()), f.prev_link.size());
  put_bytes(out, f.signature);
}
void encode_body(const BatchFrame& f, std::string& out) {
  encode_batch_fields(f, out);
  out.append(f.payload);
}
void encode_body(const AckFrame& f, std::string& out) {
  put_u64(out, f.stored_upto);
  put_u32(out, f.window_batches);
  put_u64(out, f.window_bytes);
}
void encode_body(const PingFrame& f, std::string& out) {
  put_u64(out, f.nonce);
}
void encode_body(const PongFrame& f, std::string& out) {
  put_u64(out, f.nonce);
}
void encode_body(const ErrorFrame& f, std::string& out) {
  put_u16(out, f.code);
  put_bytes(out, clip(f.message));
}

Status malformed(std::string_view what) {
  return corruption("malformed " + std::string(what) + " frame");
}

}  // namespace

void encode_frame(const Frame& frame, std::string& out) {
  std::visit(
      [&out](const auto& f) {
        size_t start = out.size();
        put_u32(out, 0);  // patched below, once the body's length is known
        put_u8(out, static_cast<uint8_t>(frame_type_of<std::decay_t<decltype(f)>>()));
        encode_body(f, out);
        store_u32(out.data() + start, static_cast<uint32_t>(out.size() - start - 4));
      },
      frame);
}

void encode_batch_frame_header(const BatchFrame& frame, std::string& out) {
  // length counts the type byte, the fields before the payload, and the payload
  size_t start = out.size();
  put_u32(out, 0);
  put_u8(out, static_cast<uint8_t>(FrameType::kBatch));
  encode_batch_fields(frame, out);
  store_u32(out.data() + start,
            static_cast<uint32_t>(out.size() - start - 4 + frame.payload.size()));
}

Result<Frame> decode_frame_body(FrameType type, std::string_view body) {
  ByteReader r(body);
  switch (type) {
    case FrameType::kHello: {
      HelloFrame f;
      std::string_view id;
      std::string_view host;
      if (!r.get_u16(f.version) || !r.get_bytes(id, kMaxTextBytes) ||
          !r.get_bytes(host, kMaxTextBytes) || !r.get_u64(f.stream_id) || !r.at_end()) {
        return malformed("hello");
      }
      f.agent_id.assign(id);
      f.host.assign(host);
      return Frame(std::move(f));
    }
    case FrameType::kHelloOk: {
      HelloOkFrame f;
      if (!r.get_u16(f.version) || !r.get_u64(f.stored_upto) || !r.get_u32(f.window_batches) ||
          !r.get_u64(f.window_bytes) || !r.get_u32(f.max_frame_bytes) || !r.at_end()) {
        return malformed("hello_ok");
      }
      return Frame(f);
    }
    case FrameType::kBatch: {
      BatchFrame f;
      uint8_t codec = 0;
      std::string_view prev_link;
      if (!r.get_u64(f.seq) || !r.get_u32(f.event_count) || !r.get_u32(f.raw_size) ||
          !r.get_u8(codec) || !r.get_u8(f.chain_flags) || !r.get_u64(f.prev_seq) ||
          !r.get_raw(prev_link, kDigestBytes) || !r.get_bytes(f.signature, kMaxSignatureBytes)) {
        return malformed("batch");
      }
      std::copy(prev_link.begin(), prev_link.end(), f.prev_link.begin());
      Result<Codec> c = codec_from_byte(codec);
      if (!c.is_ok()) {
        return c.status();
      }
      f.codec = *c;
      f.payload = r.rest();
      return Frame(f);
    }
    case FrameType::kAck: {
      AckFrame f;
      if (!r.get_u64(f.stored_upto) || !r.get_u32(f.window_batches) || !r.get_u64(f.window_bytes) ||
          !r.at_end()) {
        return malformed("ack");
      }
      return Frame(f);
    }
    case FrameType::kPing: {
      PingFrame f;
      if (!r.get_u64(f.nonce) || !r.at_end()) {
        return malformed("ping");
      }
      return Frame(f);
    }
    case FrameType::kPong: {
      PongFrame f;
      if (!r.get_u64(f.nonce) || !r.at_end()) {
        return malformed("pong");
      }
      return Frame(f);
    }
    case FrameType::kError: {
      ErrorFrame f;
      std::string_view message;
      if (!r.get_u16(f.code) || !r.get_bytes(message, kMaxTextBytes) || !r.at_end()) {
        return malformed("error");
      }
      f.message.assign(message);
      return Frame(std::move(f));
    }
  }
  return corruption("unknown frame type " + std::to_string(static_cast<int>(type)));
}

void FrameDecoder::feed(std::string_view bytes) {
  // Drop what was consumed before growing, so the buffer holds at most one frame plus one read.
  if (consumed_ > 0) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
}

Result<std::optional<Frame>> FrameDecoder::next() {
  size_t available = buffer_.size() - consumed_;
  if (available < 4) {
    return std::optional<Frame>();
  }
  uint32_t length = load_u32(buffer_.data() + consumed_);
  if (length < 1) {
    return corruption("frame with length 0");
  }
  if (length > max_frame_bytes_) {
    return resource_exhausted("frame of " + std::to_string(length) +
                              " bytes is larger than the limit of " +
                              std::to_string(max_frame_bytes_));
  }
  if (available >= 5) {
    uint8_t type = static_cast<uint8_t>(buffer_[consumed_ + 4]);
    if (type < static_cast<uint8_t>(FrameType::kHello) ||
        type > static_cast<uint8_t>(FrameType::kError)) {
      return corruption("unknown frame type " + std::to_string(type));
    }
  }
  if (available < 4 + static_cast<size_t>(length)) {
    return std::optional<Frame>();
  }
  auto type = static_cast<FrameType>(buffer_[consumed_ + 4]);
  std::string_view body(buffer_.data() + consumed_ + 5, length - 1);
  consumed_ += 4 + static_cast<size_t>(length);
  Result<Frame> frame = decode_frame_body(type, body);
  if (!frame.is_ok()) {
    return frame.status();
  }
  return std::optional<Frame>(std::move(frame).value());
}

Status FrameDecoder::closed_mid_frame(const Status& why) const {
  size_t partial = buffered_bytes();
  if (partial == 0) {
    return why;
  }
  return {why.code(), why.message() + " in the middle of a frame (" + std::to_string(partial) +
                          " bytes of it received)"};
}

}  // namespace assas::transport
