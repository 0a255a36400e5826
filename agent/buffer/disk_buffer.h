#pragma once

// The durable queue between the pipeline and the outputs. Design note:
//
// - Append-only segment files in one directory (0700; files 0600), named by the first seq they
//   hold (<20-digit seq>.seg). Each record is framed with a magic, its length and a masked CRC32C
//   (layout in docs/protocol.md, "Disk buffer format"), so that at open a torn or corrupt record
//   is detected, counted, reported and skipped (scanning forward to the next valid magic), never
//   fed on.
// - Writes and fsyncs run on the agent's Worker thread, in order; queued appends are written
//   together and covered by one fsync (group commit). A record counts as durable (its callback
//   runs) only after its fsync, unless fsync is off by config.
// - After a restart, appends go to a new segment; the existing segments are read-only.
// - Size is bounded by max_size_bytes: has_room() says whether an append fits; the pipeline pauses
//   the collectors when it does not (when_full: block).
// - Records are released in seq order once acknowledged by the receiver (and checkpointed); a
//   segment file is deleted once every record in it is released. The newest segment is always
//   kept, so the highest seq survives even when everything was released.
// - A small in-memory cache keeps the oldest unreleased records that fit in cache_bytes (payloads,
//   positions and their overhead), so that a shipper that keeps up never reads the disk, and one
//   that comes back after an outage finds the first batches it needs in memory.
// - stream_id: a random 64-bit id made when the directory is first created. The receiver
//   de-duplicates per (agent, stream_id, seq), so that a wiped buffer (seqs restarting at 1) is a
//   new stream rather than a run of "duplicates".
//
// Contract: loop thread only, except open(), which blocks and is called before the loop runs.
// loop and worker must outlive the DiskBuffer; close() before destroying it.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <uv.h>

#include "agent/buffer/buffer_record.h"
#include "agent/worker.h"
#include "base/status.h"

namespace assas::agent {

struct DiskBufferOptions {
  std::string dir;                            // e.g. <data_dir>/buffer
  uint64_t max_size_bytes = 2ULL << 30;       // total of all segment files
  uint64_t segment_size_bytes = 32ULL << 20;  // start a new segment past this size
  bool fsync = true;                          // false: durable once written (page cache only)
  uint64_t cache_bytes = 4ULL << 20;          // unreleased records kept in memory for shippers
};

struct RecoveryReport {
  uint64_t records = 0;               // valid records found
  uint64_t corrupt_records = 0;       // records (or runs of bytes) skipped as corrupt
  uint64_t skipped_bytes = 0;         // bytes skipped or cut off as torn or corrupt
  std::vector<std::string> problems;  // one sentence each: "<segment>: offset N: <what>"
  uint64_t last_seq = 0;              // highest seq found, 0 if none
  // For every source, the position of the newest record that mentions it, with that record's seq.
  std::vector<std::pair<uint64_t, BatchPositions>> positions_by_seq;
  // Where the hash chain continues: the seq and link of the highest-seq valid record, if that
  // record is chained and nothing with a higher seq was ever made (DiskBuffer::open clears it when
  // the seq floor or released_upto says newer records existed and are gone). Empty: the next batch
  // starts a new chain.
  std::optional<ChainHead> chain_head;
};

class DiskBuffer {
 public:
  using DurableCallback = std::function<void(const Status&)>;
  using ReadCallback = std::function<void(Result<BufferRecord>)>;

  // Opens or creates the buffer and recovers it (see the design note). Blocking.
  static Result<std::unique_ptr<DiskBuffer>> open(uv_loop_t* loop, Worker& worker,
                                                  const DiskBufferOptions& options);
  ~DiskBuffer();
  DiskBuffer(const DiskBuffer&) = delete;
  DiskBuffer& operator=(const DiskBuffer&) = delete;

  const RecoveryReport& recovery() const;
  uint64_t stream_id() const;
  uint64_t last_seq() const;      // highest seq appended (or recovered)
  uint64_t durable_seq() const;   // highest seq whose append completed
  uint64_t first_seq() const;     // lowest seq not yet released (0 if empty)
  uint64_t size_bytes() const;    // bytes on disk, including appends in flight
  uint64_t record_count() const;  // records not yet released
  uint64_t max_size_bytes() const;

  // Whether a record of about this many bytes fits under max_size_bytes.
  bool has_room(uint64_t record_bytes) const;
  // Appends a record (seq must be above last_seq()). durable runs on the loop once it is on disk
  // and fsynced, or with the error (kResourceExhausted for ENOSPC/EDQUOT, kIoError otherwise), in
  // which case the record is not in the buffer and the same seq may be appended again.
  void append(BufferRecord record, DurableCallback durable);

  // Reads the first durable record with seq > after (from the cache or the disk); kNotFound if
  // there is none yet. done runs on the loop.
  void read_after(uint64_t after, ReadCallback done);
  // The seq of the first durable, unreleased record after `after`, or 0 if there is none.
  uint64_t seq_after(uint64_t after) const;

  // Records with seq <= upto are no longer needed; deletes segments that hold only such records.
  void release(uint64_t upto);

  // Events in the durable, unreleased records.
  uint64_t buffered_events() const;
  // When the oldest unreleased record was written (Unix seconds; 0 if there is none).
  int64_t oldest_buffered_at() const;
  // The unreleased records of the oldest segment file, which release(upto) would delete (when_full:
  // drop_oldest). Empty (upto 0) while only the newest segment exists.
  struct Span {
    uint64_t upto = 0;
    uint64_t batches = 0;
    uint64_t events = 0;
  };
  Span oldest_segment() const;
  // The unreleased records with after < seq <= upto.
  Span records_between(uint64_t after, uint64_t upto) const;
  // Bytes on disk of the segments holding records above seq, plus appends in flight.
  uint64_t bytes_after(uint64_t seq) const;

  void close(std::function<void()> on_closed);

 private:
  struct Impl;
  explicit DiskBuffer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace assas::agent
