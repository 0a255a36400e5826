#pragma once

// The bytes of a disk-buffer segment file (docs/protocol.md, "Disk buffer format"). Pure
// functions, no I/O: the writer, the recovery scanner, the disk reader and the fuzz target share
// them. Everything decoded here may come from a damaged or hostile file, so lengths are bounded
// before anything is allocated and every field is checked.
//
//   segment = header record*
//   header  = "ASSASSEG" u32 version
//   record  = u32 magic | u32 body length | u32 masked CRC32C(body) | body
//   body    = u64 seq | u32 event_count | u32 raw_size | u8 codec
//             | varint count | count × (bytes source_id, varint offset, bytes token)
//             | chain (version 2 only) | payload
//   chain   = u8 chain_flags | u64 prev_seq | 32 bytes prev_link | 32 bytes link | bytes signature
//
// New segments are always written as version 2; version-1 segments (written before the hash
// chain) are still read, and their records come back unchained (chain.flags 0, no link). The
// version is per segment, so every function that parses a body is told which one it reads.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/buffer/buffer_record.h"
#include "base/status.h"

namespace assas::agent::segment_format {

inline constexpr std::string_view kSegmentMagic = "ASSASSEG";
inline constexpr uint32_t kSegmentVersion = 2;        // what encode_* writes
inline constexpr uint32_t kOldestSegmentVersion = 1;  // the oldest still read
inline constexpr size_t kSegmentHeaderSize = 12;
inline constexpr uint32_t kRecordMagic = 0x52534141;  // "AASR" little-endian on disk
inline constexpr size_t kRecordHeaderSize = 12;
// A batch is far smaller; anything longer is a damaged length field, refused before allocating.
inline constexpr uint32_t kMaxBodyBytes = 64U << 20;
inline constexpr size_t kMaxPositions = 1U << 20;
inline constexpr size_t kMaxIdBytes = 64U << 10;
// A checkpoint signature (RSA 8192 is 1024 bytes), with room to spare; the wire's bound too.
inline constexpr size_t kMaxSignatureBytes = 2048;

std::string encode_segment_header();
// OK when the first kSegmentHeaderSize bytes are our magic and a version we read
// (kOldestSegmentVersion..kSegmentVersion), which goes to *version if given.
Status check_segment_header(std::string_view bytes, uint32_t* version = nullptr);

// Size of encode_record(record), computed without copying the payload.
size_t encoded_record_size(const BufferRecord& record);
// The whole framed record (header and body), in the kSegmentVersion layout.
std::string encode_record(const BufferRecord& record);
// Parses a body (of a segment of `version`) whose CRC was already verified; kCorruption on
// malformed fields.
Result<BufferRecord> decode_record_body(std::string_view body, uint32_t version = kSegmentVersion);

enum class FrameCheck {
  kOk,         // a complete record whose CRC and body verify
  kTruncated,  // the bytes end inside the header or the body (a torn write, at a file's end)
  kCorrupt,    // bad magic, impossible length, CRC mismatch or malformed body
};

struct FrameResult {
  FrameCheck check = FrameCheck::kCorrupt;
  size_t frame_bytes = 0;  // header + body, when kOk
  std::string_view body;   // into the input, when kOk
  const char* why = "";    // a short reason, for the recovery report
};

// Checks the record that starts at data[0] (data may run on past it), in a segment of `version`.
FrameResult check_frame(std::string_view data, uint32_t version = kSegmentVersion);

// "<20-digit seq>.seg", so that names sort in seq order.
std::string segment_file_name(uint64_t first_seq);
// true (and first_seq) for names segment_file_name() makes; false for anything else.
bool parse_segment_file_name(std::string_view name, uint64_t& first_seq);

}  // namespace assas::agent::segment_format
