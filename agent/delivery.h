#pragma once

// Delivery: every configured output with its own read position in the one disk buffer, and the
// rule for when a batch may leave that buffer.
//
// - Each output has one Shipper per lane (one lane, or one per endpoint with mode: loadbalance),
//   each with its own position; a dead output never stalls another, which keeps sending live.
// - Release rule: a batch leaves the buffer only when every output has it acknowledged AND the
//   checkpoint file covers it. The second half closes a crash window: without it, a batch could be
//   acknowledged and deleted before the checkpoint that moves past its lines was written, and a
//   restart would read those lines again under new sequence numbers.
// - An output with max_behind set that falls further behind than that (bytes of buffer it has not
//   had acknowledged) while another output is ahead is cut loose up to the next output's position:
//   those batches are dropped for it alone, counted and logged, so that it cannot hold the buffer
//   (and through it every other output) hostage.
//
// Contract: loop thread only; the buffer outlives the Delivery. close() before destroying it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/buffer/disk_buffer.h"
#include "agent/shipper.h"
#include "base/status.h"
#include "transport/output.h"

namespace assas::agent {

// One configured output: its lanes (connections), each an Output of its own stream.
struct OutputLanes {
  std::string name;
  std::vector<std::unique_ptr<transport::Output>> lanes;
  uint64_t max_behind_bytes = 0;  // 0: never cut loose
};

struct DeliveryOutputStats {
  std::string name;
  uint64_t lanes = 0;
  uint64_t done_upto = 0;     // every batch up to here is acknowledged by this output
  uint64_t behind_bytes = 0;  // buffer bytes (whole segments) not yet acknowledged by it
  uint64_t cut_loose_batches = 0;
  uint64_t cut_loose_events = 0;
  bool has_session = false;   // a lane's shipper has a session (/health)
  ShipperStats shipping;      // summed over lanes
  transport::OutputStats io;  // summed over lanes; connected if any lane is
};

class Delivery {
 public:
  // made_before: the highest seq made before this run (buffer and checkpoints), the most any
  // receiver can hold of what the buffer does not.
  Delivery(DiskBuffer& buffer, std::vector<OutputLanes> outputs, uint64_t made_before);
  ~Delivery();
  Delivery(const Delivery&) = delete;
  Delivery& operator=(const Delivery&) = delete;

  // Starts every output connecting in the background.
  Status start();
  // Called after buffer space was freed (so that the pipeline can retry a blocked batch).
  void set_on_released(std::function<void()> callback);
  // A new batch is durable in the buffer.
  void on_durable(uint64_t seq);
  // The checkpoint file now covers every batch up to seq.
  void on_checkpointed(uint64_t seq);
  // Drops the oldest segment's batches, acknowledged or not (when_full: drop_oldest). Nothing if
  // only the newest segment is left.
  DiskBuffer::Span drop_oldest();
  // Stops sending and closes every output; on_closed runs once, after which it may be destroyed.
  void close(std::function<void()> on_closed);

  std::vector<DeliveryOutputStats> stats() const;
  uint64_t acked_upto() const;  // every output has every batch up to here

 private:
  struct Output {
    std::string name;
    uint64_t max_behind_bytes = 0;
    std::vector<std::unique_ptr<transport::Output>> lanes;
    std::vector<std::unique_ptr<Shipper>> shippers;
    uint64_t cut_loose_batches = 0;
    uint64_t cut_loose_events = 0;
    std::chrono::steady_clock::time_point last_cut_log{};
  };
  static uint64_t done_upto(const Output& output);
  void on_progress();
  void cut_loose_laggards();
  void release(uint64_t upto);

  DiskBuffer& buffer_;
  std::vector<Output> outputs_;
  std::function<void()> on_released_;
  uint64_t checkpointed_upto_ = 0;
  uint64_t released_upto_ = 0;
  size_t open_lanes_ = 0;
  bool closing_ = false;
  bool closed_ = false;
};

}  // namespace assas::agent
