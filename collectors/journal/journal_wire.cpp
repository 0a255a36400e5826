#include "collectors/journal/journal_wire.h"

#include "base/bytes.h"

namespace assas::collectors {

namespace {

// Reserves the length prefix, returns where the body starts; finish_frame fills it in.
size_t begin_frame(std::string& out, JournalFrameKind kind) {
  size_t at = out.size();
  put_u32(out, 0);
  put_u8(out, static_cast<uint8_t>(kind));
  return at;
}

void finish_frame(std::string& out, size_t at) {
  store_u32(out.data() + at, static_cast<uint32_t>(out.size() - at - 4));
}

bool parse_entry(ByteReader& r, JournalEntry& entry) {
  std::string_view cursor;
  uint64_t count = 0;
  if (!r.get_u64(entry.realtime_usec) || !r.get_u64(entry.seqnum) || !r.get_bytes(cursor) ||
      !r.get_varint(count)) {
    return false;
  }
  entry.cursor.assign(cursor);
  // Each field takes at least 3 bytes: a count beyond that is a lie, refused before reserving.
  if (count > r.remaining() / 3) {
    return false;
  }
  entry.fields.reserve(static_cast<size_t>(count));
  for (uint64_t i = 0; i < count; ++i) {
    uint8_t flags = 0;
    std::string_view name;
    std::string_view value;
    if (!r.get_u8(flags) || !r.get_bytes(name) || !r.get_bytes(value)) {
      return false;
    }
    entry.fields.push_back(JournalField{std::string(name), std::string(value), (flags & 1) != 0});
  }
  return true;
}

bool parse_body(std::string_view body, JournalFrame& frame) {
  ByteReader r(body);
  uint8_t kind = 0;
  if (!r.get_u8(kind)) {
    return false;
  }
  switch (static_cast<JournalFrameKind>(kind)) {
    case JournalFrameKind::kEntry:
      frame.kind = JournalFrameKind::kEntry;
      if (!parse_entry(r, frame.entry)) {
        return false;
      }
      break;
    case JournalFrameKind::kGap: {
      frame.kind = JournalFrameKind::kGap;
      uint8_t known = 0;
      uint64_t lost = 0;
      std::string_view reason;
      if (!r.get_u8(known) || !r.get_u64(lost) || !r.get_bytes(reason)) {
        return false;
      }
      if (known != 0) {
        frame.gap.lost = lost;
      }
      frame.gap.reason.assign(reason);
      break;
    }
    case JournalFrameKind::kError: {
      frame.kind = JournalFrameKind::kError;
      std::string_view text;
      if (!r.get_bytes(text)) {
        return false;
      }
      frame.error.assign(text);
      break;
    }
    default:
      return false;
  }
  return r.at_end();
}

}  // namespace

void append_entry_frame(std::string& out, const JournalEntry& entry) {
  size_t at = begin_frame(out, JournalFrameKind::kEntry);
  put_u64(out, entry.realtime_usec);
  put_u64(out, entry.seqnum);
  put_bytes(out, entry.cursor);
  put_varint(out, entry.fields.size());
  for (const JournalField& field : entry.fields) {
    put_u8(out, field.truncated ? 1 : 0);
    put_bytes(out, field.name);
    put_bytes(out, field.value);
  }
  finish_frame(out, at);
}

void append_gap_frame(std::string& out, const JournalGap& gap) {
  size_t at = begin_frame(out, JournalFrameKind::kGap);
  put_u8(out, gap.lost ? 1 : 0);
  put_u64(out, gap.lost.value_or(0));
  put_bytes(out, gap.reason);
  finish_frame(out, at);
}

void append_error_frame(std::string& out, std::string_view text) {
  size_t at = begin_frame(out, JournalFrameKind::kError);
  put_bytes(out, text);
  finish_frame(out, at);
}

void JournalWireDecoder::append(std::string_view bytes) {
  // Decoded bytes are dropped only now, and only once they are most of the buffer: one move per
  // read instead of one per frame.
  if (consumed_ > 0 && consumed_ >= buffer_.size() / 2) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
}

Result<std::optional<JournalFrame>> JournalWireDecoder::next() {
  size_t available = buffered();
  if (available < 4) {
    return std::optional<JournalFrame>();
  }
  uint32_t length = load_u32(buffer_.data() + consumed_);
  if (length == 0 || length > max_frame_bytes_) {
    return corruption("journal reader frame length " + std::to_string(length) + " is outside 1.." +
                      std::to_string(max_frame_bytes_));
  }
  if (available - 4 < length) {
    return std::optional<JournalFrame>();
  }
  std::string_view body(buffer_.data() + consumed_ + 4, length);
  JournalFrame frame;
  if (!parse_body(body, frame)) {
    return corruption("journal reader frame of kind " +
                      std::to_string(static_cast<uint8_t>(body[0])) + " does not parse");
  }
  consumed_ += 4 + length;
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  }
  return std::optional<JournalFrame>(std::move(frame));
}

bool JournalWireDecoder::has_frame() const {
  if (buffered() < 4) {
    return false;
  }
  uint32_t length = load_u32(buffer_.data() + consumed_);
  return length == 0 || length > max_frame_bytes_ || buffered() - 4 >= length;
}

void JournalWireDecoder::clear() {
  buffer_.clear();
  buffer_.shrink_to_fit();
  consumed_ = 0;
}

}  // namespace assas::collectors
