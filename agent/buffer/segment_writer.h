#pragma once

// The append side of the disk buffer: writes batches of records to the newest segment, rotates
// segments, and fsyncs once per batch (group commit). Runs on the Worker thread only; the
// DiskBuffer hands it one WriteBatch at a time and reads the outcome back on the loop after the
// Worker's completion (the Worker's queue orders the two threads' accesses).
//
// Failure rule: a record counts as written only once the fsync that covers it succeeded (or, with
// fsync off, once its write returned). On any error the segment is truncated back to the bytes
// known good and abandoned (the next record starts a new segment: after a failed fsync the page
// cache cannot be trusted to hold what a retry would sync), so a half-written record is never
// read back; a segment left with no good record is removed.

#include <cstdint>
#include <string>
#include <vector>

#include "agent/buffer/buffer_record.h"
#include "base/status.h"

namespace assas::agent {

struct WriteBatch {
  struct Outcome {
    Status status;
    uint64_t segment_id = 0;
    uint64_t offset = 0;
    uint32_t length = 0;
  };
  struct SegmentState {
    uint64_t id = 0;
    std::string path;
    uint64_t size_bytes = 0;  // good bytes after this batch
  };
  std::vector<BufferRecord> records;   // in: seq increasing
  std::vector<Outcome> outcomes;       // out: one per record
  std::vector<SegmentState> segments;  // out: every segment the batch created or wrote to
};

class SegmentWriter {
 public:
  // next_id: the id the first segment this writer creates gets (ids above the recovered ones).
  SegmentWriter(std::string dir, uint64_t segment_size_bytes, bool fsync, uint64_t next_id);
  ~SegmentWriter();
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  void write(WriteBatch& batch);
  // Closes the current segment (at DiskBuffer::close, after the last batch).
  void close();
  // Deletes segment `id` (at path), every record of which is released, even if it is the one being
  // appended to: the next write starts a new segment. Its highest seq goes to the seq floor file
  // first, so that seqs keep increasing across a restart with no segment left.
  Status retire(uint64_t id, const std::string& path, uint64_t max_seq);

 private:
  Status sync();
  Status open_segment(uint64_t first_seq);
  void track(WriteBatch& batch);
  void settle(WriteBatch& batch);  // records the current segment's good size in the batch
  void fail(WriteBatch& batch, size_t from, const Status& status);

  std::string dir_;
  uint64_t segment_size_bytes_;
  bool fsync_;
  uint64_t next_id_;
  int fd_ = -1;  // -1: the next record starts a new segment (always so after open or an error)
  uint64_t id_ = 0;
  std::string path_;
  uint64_t written_bytes_ = 0;  // bytes written to the current segment
  uint64_t good_bytes_ = 0;     // of those, the bytes known durable
};

}  // namespace assas::agent
