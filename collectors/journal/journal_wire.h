#pragma once

// The bytes the journal reader child (journal_reader.h) writes to the agent on its stdout: a stream
// of frames, each a u32 little-endian body length then the body, whose first byte is the kind.
//
//   ENTRY  u64 realtime_usec, u64 seqnum, bytes cursor, varint count, count × (u8 flags,
//          bytes name, bytes value)           flags bit 0: the value was cut at max_entry_size
//   GAP    u8 known, u64 lost, bytes reason   entries lost between the last cursor and the resume
//   ERROR  bytes text                         the child cannot go on (e.g. no such directory)
//
// "bytes" is a varint length then the bytes (base/bytes.h). Field values are arbitrary bytes: a
// journal MESSAGE may be a binary blob.
//
// The agent treats the child as untrusted in one way only: a broken child (a bug, memory gone
// bad) must not make the agent allocate without a bound, so a length above kMaxFrameBytes is
// refused before anything is allocated, and the child is then restarted. Pure code, no I/O.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace assas::collectors {

// The child keeps every entry below this (it cuts values to fit); the agent refuses anything more.
inline constexpr uint32_t kMaxJournalFrameBytes = 16U << 20;

enum class JournalFrameKind : uint8_t { kEntry = 1, kGap = 2, kError = 3 };

struct JournalField {
  std::string name;   // e.g. "MESSAGE", "_PID"
  std::string value;  // raw bytes
  bool truncated = false;
  bool operator==(const JournalField&) const = default;
};

struct JournalEntry {
  std::string cursor;
  uint64_t realtime_usec = 0;  // __REALTIME_TIMESTAMP
  uint64_t seqnum = 0;
  std::vector<JournalField> fields;
  bool operator==(const JournalEntry&) const = default;
};

struct JournalGap {
  std::optional<uint64_t> lost;  // unknown when the journal cannot tell
  std::string reason;
  bool operator==(const JournalGap&) const = default;
};

struct JournalFrame {
  JournalFrameKind kind = JournalFrameKind::kEntry;
  JournalEntry entry;  // kEntry
  JournalGap gap;      // kGap
  std::string error;   // kError
};

// Appends one frame to out.
void append_entry_frame(std::string& out, const JournalEntry& entry);
void append_gap_frame(std::string& out, const JournalGap& gap);
void append_error_frame(std::string& out, std::string_view text);

// The agent's side: bytes arrive in any split; frames come out whole. Loop thread only.
class JournalWireDecoder {
 public:
  explicit JournalWireDecoder(uint32_t max_frame_bytes = kMaxJournalFrameBytes)
      : max_frame_bytes_(max_frame_bytes) {}

  void append(std::string_view bytes);
  // The next whole frame, nullopt while it is incomplete, or Corruption (a length above the
  // maximum, a body that does not parse): the stream cannot be trusted past that point.
  Result<std::optional<JournalFrame>> next();
  // Bytes held that are not yet a whole frame (or not yet taken by next()).
  size_t buffered() const { return buffer_.size() - consumed_; }
  // Whether next() has something to say: a whole frame, or an error.
  bool has_frame() const;
  void clear();

 private:
  uint32_t max_frame_bytes_;
  std::string buffer_;
  size_t consumed_ = 0;  // bytes at the front of buffer_ already decoded
};

}  // namespace assas::collectors
