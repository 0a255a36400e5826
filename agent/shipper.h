#pragma once

// Moves batches from the disk buffer to one Output and releases them once acknowledged. It keeps a
// single read position (the highest seq handed to the output in this session); on every
// reconnect it starts again right after what the receiver says it already stored, so whatever
// was in flight when a connection died is sent again, and the receiver's de-duplication makes the
// resend harmless.
//
// Release rule: a batch leaves the buffer only when the receiver acknowledged it AND the checkpoint
// file already covers it. The second half closes a crash window: without it, a batch could be
// acknowledged and deleted before the checkpoint that moves past its lines was written, and a
// restart would read those lines again under new sequence numbers.
//
// Contract: loop thread only; buffer and output must outlive the shipper. stop() before
// destroying it; after stop() it calls nothing.

#include <cstdint>
#include <functional>

#include "agent/buffer/disk_buffer.h"
#include "transport/output.h"

namespace assas::agent {

struct ShipperStats {
  uint64_t batches_sent = 0;
  uint64_t batches_acked = 0;  // acknowledgements that moved stored_upto forward
  uint64_t reconnects = 0;
  uint64_t acked_upto = 0;
  // Batches that failed their CRC when read back for sending (changed on disk after they were
  // written): logged as errors and skipped, so that one damaged record cannot stall every batch
  // behind it. Their events are lost; this counter says how many batches.
  uint64_t corrupt_batches_skipped = 0;
};

class Shipper final : public transport::OutputListener {
 public:
  Shipper(DiskBuffer& buffer, transport::Output& output);
  Shipper(const Shipper&) = delete;
  Shipper& operator=(const Shipper&) = delete;

  // Called after buffer space was freed (so the pipeline can retry a blocked batch).
  void set_on_released(std::function<void()> callback);
  // A new batch is durable in the buffer.
  void on_durable(uint64_t seq);
  // The checkpoint file now covers every batch up to seq.
  void on_checkpointed(uint64_t seq);
  void stop() { stopped_ = true; }
  bool connected() const { return connected_; }
  const ShipperStats& stats() const { return stats_; }

  // transport::OutputListener
  void on_connected(uint64_t stored_upto) override;
  void on_acked(uint64_t upto) override;
  void on_writable() override;
  void on_disconnected(const Status& why) override;

 private:
  void pump();
  void skip_corrupt(const Status& why);
  void release();

  DiskBuffer& buffer_;
  transport::Output& output_;
  std::function<void()> on_released_;
  bool connected_ = false;
  bool stopped_ = false;
  bool reading_ = false;
  uint64_t session_ = 0;     // incremented per connection, to ignore reads of a previous session
  uint64_t sent_upto_ = 0;   // highest seq handed to the output in this session
  uint64_t acked_upto_ = 0;  // highest seq the receiver durably stored
  uint64_t checkpointed_upto_ = 0;
  uint64_t released_upto_ = 0;
  ShipperStats stats_;
};

}  // namespace assas::agent
