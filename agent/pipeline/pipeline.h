#pragma once

// The libuv shell around Batcher: collectors push events into it (EventSink); it cuts batches by
// count, bytes or age (one uv_timer), compresses them on the Worker thread, appends them to the
// DiskBuffer, and once a batch is durable hands its source positions to the CheckpointStore and
// tells the collectors and the shipper.
//
// Flow control, all counted pauses of every collector:
// - kPipelineBusy while more than max_pending_batches batches are being compressed or written,
//   so memory stays bounded whatever the collectors read;
// - kBufferFull while the next batch does not fit in the disk buffer (when_full: block), or the
//   disk refused a write (ENOSPC, EIO): the batch is kept in memory and retried, nothing is lost,
//   and reading resumes exactly where it stopped once the shipper frees space.
// - when_full: drop_newest drops the batch that does not fit (its lines count as read: the
//   checkpoint moves past them); drop_oldest drops the oldest segment's batches, sent or not, to
//   make room (and pauses like block when only one segment is left). Every dropped batch and
//   event is counted and the start and end of each dropping spell is logged.
// Sequence numbers are assigned when a batch is cut, in order, and batches reach the buffer in that
// order (the Worker is FIFO, and a batch that waits for room holds back the ones after it).
// The Worker job that compresses a batch also links it into the hash chain and signs it when the
// policy says so (ChainStage), before it reaches the buffer; a batch kept for a retry keeps its
// link, and one dropped by when_full: drop_newest was linked too (the shipper tells the receiver).
//
// Contract: loop thread only. loop, worker, buffer and store must outlive the Pipeline. Call
// shutdown() before destroying it.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "agent/buffer/disk_buffer.h"
#include "agent/checkpoint_store.h"
#include "agent/collector.h"
#include "agent/event_sink.h"
#include "agent/pipeline/batcher.h"
#include "agent/pipeline/chain_stage.h"
#include "agent/worker.h"
#include "base/uv_util.h"
#include "transport/protocol/compression.h"

namespace assas::agent {

enum class WhenFull { kBlock, kDropNewest, kDropOldest };

struct PipelineOptions {
  BatchLimits limits;
  transport::Codec codec = transport::Codec::kZstd;
  int compression_level = 3;
  std::string host;
  uint64_t first_seq = 1;          // the seq of the first batch this run cuts
  size_t max_pending_batches = 4;  // batches compressing or being written before kPipelineBusy
  std::chrono::milliseconds retry_delay{1000};  // after a failed buffer write
  WhenFull when_full = WhenFull::kBlock;
  // The hash chain (docs/integrity.md; agent/pipeline/chain_stage.h): integrity.chain, where the
  // chain continues (the disk buffer's recovered head), and the checkpoint signing policy.
  ChainOptions chain;
};

struct PipelineStats {
  uint64_t events_in = 0;
  uint64_t batches_durable = 0;
  uint64_t bytes_raw = 0;
  uint64_t bytes_compressed = 0;
  uint64_t buffer_write_errors = 0;
  uint64_t dropped_newest_batches = 0;  // when_full: drop_newest
  uint64_t dropped_newest_events = 0;
  uint64_t dropped_oldest_batches = 0;  // when_full: drop_oldest
  uint64_t dropped_oldest_events = 0;
  bool reading_paused_full = false;       // kBufferFull is in force
  uint64_t chain_signatures = 0;          // batches signed as chain checkpoints
  uint64_t chain_signature_failures = 0;  // signatures that failed (those batches stay unsigned)
};

// Events and message bytes that entered the pipeline from one collector.
struct CollectorCounts {
  std::string collector;
  uint64_t events = 0;
  uint64_t bytes = 0;
};

class Pipeline final : public EventSink {
 public:
  Pipeline(uv_loop_t* loop, Worker& worker, DiskBuffer& buffer, CheckpointStore& store,
           PipelineOptions options);
  ~Pipeline() override;
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Collectors to pause, resume and notify; they must outlive the pipeline's use of them.
  void add_collector(Collector* collector);
  // Called with the newest durable seq after each batch becomes durable.
  void set_on_durable(std::function<void(uint64_t seq)> callback);
  // The shipper freed buffer space: retry a batch waiting for room.
  void on_buffer_space();
  // when_full: drop_oldest: frees the oldest segment and says what it dropped (nothing if it
  // could not).
  void set_drop_oldest(std::function<DiskBuffer::Span()> drop_oldest);

  // EventSink
  bool push(const StreamPtr& stream, const Event& event) override;
  void forget(const std::vector<std::string>& source_ids) override;

  // Cuts the current batch now (shutdown, tests).
  void flush();
  // True when no batch is being compressed, written or waiting for room.
  bool idle() const { return in_flight_ == 0 && waiting_.empty(); }
  const PipelineStats& stats() const { return stats_; }
  // One entry per collector, in the order they were added (or first pushed).
  const std::vector<CollectorCounts>& collector_counts() const { return collector_counts_; }

  // Flushes, waits until every batch is durable (or failed for good), closes the timers, then
  // calls on_done once.
  void shutdown(std::function<void()> on_done);

 private:
  struct Compressed {
    BufferRecord record;
    size_t raw_bytes = 0;
    ChainOutcome chain;  // set on the Worker, counted on the loop
  };

  static void on_timer(uv_timer_t* timer) noexcept;
  static void on_retry_timer(uv_timer_t* timer) noexcept;
  void arm_timer();
  void cut_batch(bool aged);
  void submit_next();
  // when_full: drop_*: makes room or drops the front batch; false if the batch must wait.
  bool drop_for_room();
  void drop_newest();
  void lines_done(const BufferRecord& record);
  void maybe_end_dropping();
  void on_durable(uint64_t seq, const Status& status);
  void update_pauses();
  void set_paused(PauseReason reason, bool paused);
  void maybe_finish_shutdown();
  CollectorCounts& counts_of(const StreamPtr& stream);

  uv_loop_t* loop_;
  Worker& worker_;
  DiskBuffer& buffer_;
  CheckpointStore& store_;
  PipelineOptions options_;
  Batcher batcher_;
  transport::Compressor compressor_;  // used only inside Worker jobs
  ChainStage chain_;                  // likewise: the head moves only on the Worker
  std::vector<Collector*> collectors_;
  std::function<void(uint64_t)> on_durable_;
  std::function<DiskBuffer::Span()> drop_oldest_;
  bool dropping_ = false;     // in a spell of when_full drops
  bool making_room_ = false;  // inside drop_oldest_()
  uint64_t spell_dropped_events_ = 0;
  uv_timer_t timer_{};
  uv_timer_t retry_timer_{};
  bool timer_armed_ = false;
  uint64_t next_seq_;
  size_t in_flight_ = 0;            // batches compressing or appending
  std::deque<Compressed> waiting_;  // compressed, in seq order, not yet handed to the buffer
  bool appending_ = false;          // a waiting_.front() append is in progress
  bool write_failed_ = false;       // the last append failed; retrying after retry_delay
  StatusCode write_failure_ = StatusCode::kOk;
  bool paused_[kPauseReasonCount] = {};
  bool shutting_down_ = false;
  bool closed_ = false;
  std::function<void()> on_shutdown_done_;
  PipelineStats stats_;
  std::vector<CollectorCounts> collector_counts_;
  // The last stream pushed and its collector's entry: events come in runs from one stream, so
  // the per-event cost is a pointer compare. Held, so that its address cannot be reused.
  StreamPtr counted_stream_;
  size_t counted_index_ = 0;
  HandleCloser closer_;
};

}  // namespace assas::agent
