#pragma once

// Recovery of a disk-buffer directory at open: reads every segment in seq order, verifies every
// record, and reports (never feeds on) whatever is torn or corrupt. Blocking: runs in
// DiskBuffer::open(), before the loop.
//
// What it does to the files, and why:
// - A torn tail (a record cut short at the end of a segment, with nothing valid after it: a write
//   that a crash interrupted) is truncated away, so that the same tear is not reported again at
//   every start.
// - A segment with no valid record left is removed: it holds nothing to send, and its name (its
//   first seq) may be needed again for a new segment.
// - Corrupt bytes in the middle of a segment stay (they are skipped at every scan) until the
//   segment is released and deleted.

#include <cstdint>
#include <string>
#include <vector>

#include "agent/buffer/disk_buffer.h"
#include "base/status.h"

namespace assas::agent {

struct ScannedRecord {
  uint64_t seq = 0;
  uint64_t offset = 0;  // of the record header in its segment
  uint32_t length = 0;  // header + body
  uint32_t event_count = 0;
};

struct ScannedSegment {
  std::string path;
  uint64_t first_seq = 0;  // from the file name
  uint64_t file_bytes = 0;
  uint32_t version = 0;                // of its layout (segment_format.h)
  std::vector<ScannedRecord> records;  // valid records, seq increasing
};

struct ScanResult {
  std::vector<ScannedSegment> segments;  // name order; only those with valid records
  RecoveryReport report;
};

// Scans the segments in dir (which must exist). Errors only when the directory or a file cannot
// be read at all; damaged contents are reported in the RecoveryReport instead.
Result<ScanResult> scan_segments(const std::string& dir);

}  // namespace assas::agent
