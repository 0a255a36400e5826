#pragma once

// Persists the positions of every source, one file for the whole agent (<data_dir>/checkpoints,
// 0600), replaced atomically (write, fsync, rename, fsync the directory) on the Worker thread.
// Updates come from the pipeline once a batch is durable in the disk buffer; writes are coalesced:
// at most one is in flight, and the next carries everything that arrived meanwhile.
//
// The file also records the buffer seq it is up to date with (covered_seq), so that at start-up
// the agent can take the later of the file and the buffer: positions of buffered records with a
// higher seq win (see merge_buffer_positions).
//
// Contract: loop thread only, except open(), which blocks and runs before the loop. The file format
// is versioned text ("assas-checkpoints 1"), one source per line, and readable by a person.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <uv.h>

#include "agent/buffer/disk_buffer.h"
#include "agent/event.h"
#include "agent/worker.h"
#include "base/status.h"

namespace assas::agent {

class CheckpointStore {
 public:
  // Loads path (missing: empty, covered_seq 0). A corrupt file is an error naming the fix.
  static Result<std::unique_ptr<CheckpointStore>> open(const std::string& path, Worker& worker);
  ~CheckpointStore();
  CheckpointStore(const CheckpointStore&) = delete;
  CheckpointStore& operator=(const CheckpointStore&) = delete;

  const PositionMap& positions() const;
  uint64_t covered_seq() const;    // positions are up to date with buffer records <= this
  uint64_t persisted_seq() const;  // covered_seq of the last completed write

  // Overlays positions of buffered records newer than covered_seq (start-up, before the loop).
  void merge_buffer_positions(const RecoveryReport& recovery);
  // Batch seq is durable in the buffer; its positions become the checkpoint. Seqs arrive in order.
  void update(uint64_t seq, const BatchPositions& positions);
  // Runs after each completed write with the new persisted_seq().
  void set_on_persisted(std::function<void(uint64_t persisted_seq)> callback);
  // Forgets sources for which keep(source_id) is false (e.g. files gone past a grace period).
  void retain_if(const std::function<bool(const std::string& source_id)>& keep);
  // Writes what is pending, then calls on_closed once.
  void close(std::function<void()> on_closed);

 private:
  struct Impl;
  explicit CheckpointStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace assas::agent
