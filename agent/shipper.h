#pragma once

// Moves batches from the disk buffer to one Output (one lane of a configured output) and tracks
// what that receiver acknowledged. It keeps its own read position (the highest seq handed to the
// output in this session); on every reconnect it starts again right after what the receiver says it
// already stored, so whatever was in flight when a connection died is sent again, and the
// receiver's de-duplication makes the resend harmless.
//
// Lanes: an output that load-balances over K receivers has K shippers; lane i sends the batches
// whose seq % K == i, each as its own stream, so that every receiver sees increasing seqs and its
// de-duplication (drop what is not above the highest stored seq) stays exact.
//
// It releases nothing itself: Delivery (agent/delivery.h) frees buffer space once every output has
// acknowledged a batch and the checkpoint covers it, from each shipper's done_upto().
//
// Contract: loop thread only; buffer and output must outlive the shipper. stop() before
// destroying it; after stop() it calls nothing.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>

#include "agent/buffer/disk_buffer.h"
#include "agent/latency_histogram.h"
#include "transport/output.h"

namespace assas::agent {

// The chain flags a batch goes out with (docs/integrity.md, "On the wire"): the record's own,
// plus kLane with more than one lane (a lane's predecessor may be at another receiver). With one
// lane, a record that continues a batch above previous_seq (the seq of the last batch this
// stream's receiver has or was sent in this session) continues one this receiver never got: if an
// earlier session had it acknowledged (seq <= acknowledged_before), it is at the receiver the
// output failed over to, and kLane says so; otherwise the batches between were lost by the agent
// (corrupt at open or when read back, dropped by when_full, or cut loose by skip_to): kAgentLost.
uint8_t outgoing_chain_flags(const transport::BatchChain& chain, uint64_t previous_seq,
                             uint64_t acknowledged_before, uint32_t lane_count);

struct ShipperStats {
  uint64_t batches_sent = 0;
  uint64_t batches_acked = 0;  // acknowledgements that moved stored_upto forward
  uint64_t reconnects = 0;
  uint64_t acked_upto = 0;
  // Batches that failed their CRC when read back for sending (changed on disk after they were
  // written): logged as errors and skipped, so that one damaged record cannot stall every batch
  // behind it. Their events are lost; this counter says how many batches.
  uint64_t corrupt_batches_skipped = 0;
  uint64_t events_acked = 0;  // events of the batches acknowledged (or held at a reconnect)
  // From a batch's last send to the acknowledgement that covered it.
  LatencyHistogram ack_latency;
  // When the last session ended, or the shipper was made if it never had one (/health).
  std::chrono::steady_clock::time_point without_session_since = std::chrono::steady_clock::now();
};

class Shipper final : public transport::OutputListener {
 public:
  // made_before: the highest seq made before this run (no receiver can hold more than that and
  // what the buffer holds since).
  Shipper(DiskBuffer& buffer, transport::Output& output, uint64_t made_before = 0,
          uint32_t lane = 0, uint32_t lane_count = 1);
  Shipper(const Shipper&) = delete;
  Shipper& operator=(const Shipper&) = delete;

  // Called when done_upto() may have moved.
  void set_on_progress(std::function<void()> callback);
  // A new batch is durable in the buffer.
  void on_durable(uint64_t seq);
  // Batches up to seq left the buffer (every output is done with them, or they were dropped):
  // never read them again.
  void on_released(uint64_t seq);
  // This output is cut loose up to seq (it stayed too far behind): treat it as done.
  void skip_to(uint64_t seq);
  // Every batch of this lane with seq <= done_upto() was acknowledged (or skipped).
  uint64_t done_upto() const;
  void stop() { stopped_ = true; }
  bool connected() const { return connected_; }
  const ShipperStats& stats() const { return stats_; }
  transport::Output& output() const { return output_; }

  // transport::OutputListener
  Status on_connected(uint64_t stored_upto) override;
  void on_acked(uint64_t upto) override;
  void on_writable() override;
  void on_disconnected(const Status& why) override;

 private:
  void pump();
  void skip_corrupt(const Status& why);
  bool in_lane(uint64_t seq) const { return seq % lane_count_ == lane_; }
  // The first buffered seq of this lane after `after`, or 0.
  uint64_t lane_seq_after(uint64_t after) const;
  void progress();
  // Drops the in-flight entries up to seq; counted: they were acknowledged.
  void retire_inflight(uint64_t upto, bool counted);

  // A batch handed to the output and not yet acknowledged, for the acknowledgement metrics.
  struct InFlight {
    uint64_t seq = 0;
    uint32_t event_count = 0;
    std::chrono::steady_clock::time_point sent_at;
  };

  DiskBuffer& buffer_;
  transport::Output& output_;
  uint64_t made_before_;
  uint32_t lane_;
  uint32_t lane_count_;
  std::function<void()> on_progress_;
  bool connected_ = false;
  bool stopped_ = false;
  bool reading_ = false;
  uint64_t session_ = 0;    // incremented per connection, to ignore reads of a previous session
  uint64_t sent_upto_ = 0;  // highest seq handed to the output in this session
  // The seq of the batch this stream's receiver has or was sent last in this session: stored_upto
  // at on_connected, then each batch sent (not those skipped), for outgoing_chain_flags().
  uint64_t receiver_has_upto_ = 0;
  uint64_t acked_upto_ = 0;            // highest seq the receiver durably stored (or skipped past)
  uint64_t acked_before_session_ = 0;  // acked_upto_ when this session began
  uint64_t released_upto_ = 0;
  std::deque<InFlight> inflight_;  // in seq order; bounded by the output's window
  ShipperStats stats_;
};

}  // namespace assas::agent
