#include "agent/shipper.h"

#include <algorithm>

#include "base/log.h"

namespace assas::agent {

uint8_t outgoing_chain_flags(const transport::BatchChain& chain, uint64_t previous_seq,
                             uint64_t acknowledged_before, uint32_t lane_count) {
  uint8_t flags = chain.flags;
  if (lane_count > 1) {
    return static_cast<uint8_t>(flags | transport::BatchChain::kLane);
  }
  if ((flags & transport::BatchChain::kChained) != 0 && chain.prev_seq > previous_seq) {
    // Acknowledged by an earlier session: at the receiver this output failed over to.
    flags = static_cast<uint8_t>(flags | (chain.prev_seq <= acknowledged_before
                                              ? transport::BatchChain::kLane
                                              : transport::BatchChain::kAgentLost));
  }
  return flags;
}

Shipper::Shipper(DiskBuffer& buffer, transport::Output& output, uint64_t made_before, uint32_t lane,
                 uint32_t lane_count)
    : buffer_(buffer),
      output_(output),
      made_before_(made_before),
      lane_(lane),
      lane_count_(std::max<uint32_t>(lane_count, 1)) {}

void Shipper::set_on_progress(std::function<void()> callback) {
  on_progress_ = std::move(callback);
}

void Shipper::on_durable(uint64_t /*seq*/) {
  pump();
}

void Shipper::on_released(uint64_t seq) {
  released_upto_ = std::max(released_upto_, seq);
}

void Shipper::skip_to(uint64_t seq) {
  retire_inflight(seq, /*counted=*/false);
  acked_upto_ = std::max(acked_upto_, seq);
  sent_upto_ = std::max(sent_upto_, seq);
  progress();
  pump();
}

uint64_t Shipper::lane_seq_after(uint64_t after) const {
  uint64_t seq = buffer_.seq_after(after);
  while (seq != 0 && !in_lane(seq)) {
    seq = buffer_.seq_after(seq);
  }
  return seq;
}

uint64_t Shipper::done_upto() const {
  uint64_t first_unacked = lane_seq_after(acked_upto_);
  return first_unacked == 0 ? std::max(acked_upto_, buffer_.durable_seq()) : first_unacked - 1;
}

void Shipper::progress() {
  if (on_progress_) {
    on_progress_();
  }
}

Status Shipper::on_connected(uint64_t stored_upto) {
  if (stopped_) {
    return Status::ok();
  }
  // Believed, a receiver claiming more than was ever made would have every buffered batch
  // released unsent: all of it lost. (A receiver restored from another agent's data, or a bad one.)
  uint64_t made = std::max(made_before_, buffer_.last_seq());
  if (stored_upto > made) {
    return corruption("receiver claims to have stored seq " + std::to_string(stored_upto) +
                      " of this stream, but this agent has made only " + std::to_string(made) +
                      "; refusing it, nothing is released");
  }
  connected_ = true;
  ++session_;
  // What the receiver already holds was acknowledged; the rest is sent again (and timed again).
  retire_inflight(stored_upto, /*counted=*/true);
  inflight_.clear();
  if (session_ > 1) {
    ++stats_.reconnects;
  }
  // What the receiver already holds counts as acknowledged, and sending restarts right after it.
  acked_before_session_ = acked_upto_;
  acked_upto_ = std::max(acked_upto_, stored_upto);
  stats_.acked_upto = acked_upto_;
  sent_upto_ = std::max({stored_upto, released_upto_, acked_upto_});
  receiver_has_upto_ = stored_upto;
  ASSAS_LOG(kInfo, "connected to receiver", log::kv("output", output_.name()),
            log::kv("receiver_stored_upto", stored_upto),
            log::kv("buffered_upto", buffer_.durable_seq()));
  progress();
  pump();
  return Status::ok();
}

void Shipper::on_acked(uint64_t upto) {
  if (stopped_ || upto <= acked_upto_) {
    return;
  }
  acked_upto_ = upto;
  ++stats_.batches_acked;
  auto now = std::chrono::steady_clock::now();
  while (!inflight_.empty() && inflight_.front().seq <= upto) {
    stats_.events_acked += inflight_.front().event_count;
    stats_.ack_latency.observe(now - inflight_.front().sent_at);
    inflight_.pop_front();
  }
  stats_.acked_upto = upto;
  progress();
  pump();
}

void Shipper::on_writable() {
  pump();
}

void Shipper::on_disconnected(const Status& why) {
  if (!connected_) {
    return;
  }
  connected_ = false;
  stats_.without_session_since = std::chrono::steady_clock::now();
  ASSAS_LOG(kWarn, "disconnected from receiver; unacknowledged batches will be sent again",
            log::kv("output", output_.name()), log::kv("reason", why.to_string()),
            log::kv("acked_upto", acked_upto_), log::kv("sent_upto", sent_upto_));
}

void Shipper::pump() {
  if (stopped_ || !connected_ || reading_ || !output_.can_send()) {
    return;
  }
  uint64_t next = lane_seq_after(std::max(sent_upto_, released_upto_));
  if (next == 0) {
    return;
  }
  reading_ = true;
  uint64_t session = session_;
  buffer_.read_after(next - 1, [this, session](Result<BufferRecord> record) {
    reading_ = false;
    if (stopped_) {
      return;
    }
    if (!record.is_ok()) {
      if (record.status().code() == StatusCode::kCorruption && session == session_) {
        skip_corrupt(record.status());
      } else if (record.status().code() != StatusCode::kNotFound) {
        // An I/O error: tried again with the next trigger (a new batch, an ack, a reconnect).
        ASSAS_LOG(kError, "cannot read a batch back from the disk buffer",
                  log::kv("after_seq", sent_upto_), log::kv("error", record.status().to_string()));
      }
      return;
    }
    if (session != session_ || !connected_) {
      pump();  // the session changed while reading: start over from the new position
      return;
    }
    BufferRecord& r = record.value();
    if (r.seq <= sent_upto_ || !in_lane(r.seq)) {  // sent or released meanwhile
      pump();
      return;
    }
    sent_upto_ = r.seq;
    ++stats_.batches_sent;
    inflight_.push_back(InFlight{r.seq, r.event_count, std::chrono::steady_clock::now()});
    transport::OutgoingBatch batch{r.seq,   r.event_count, r.raw_size,
                                   r.codec, r.payload,     std::move(r.chain)};
    batch.chain.flags =
        outgoing_chain_flags(batch.chain, receiver_has_upto_, acked_before_session_, lane_count_);
    receiver_has_upto_ = r.seq;
    output_.send(std::move(batch));
    pump();
  });
}

void Shipper::retire_inflight(uint64_t upto, bool counted) {
  while (!inflight_.empty() && inflight_.front().seq <= upto) {
    if (counted) {
      stats_.events_acked += inflight_.front().event_count;
    }
    inflight_.pop_front();
  }
}

// A record that verified when written but fails its CRC now was damaged on disk. Sending it is
// impossible and waiting cannot help, so it is skipped, loudly: the receiver's next cumulative
// ack then covers it, and everything behind it still ships.
void Shipper::skip_corrupt(const Status& why) {
  uint64_t seq = lane_seq_after(std::max(sent_upto_, released_upto_));
  if (seq == 0) {
    return;  // released meanwhile
  }
  ++stats_.corrupt_batches_skipped;
  ASSAS_LOG(kError,
            "a buffered batch is damaged on disk and cannot be sent; skipping it, its "
            "events are lost",
            log::kv("seq", seq), log::kv("error", why.to_string()),
            log::kv("skipped_total", stats_.corrupt_batches_skipped));
  sent_upto_ = seq;
  pump();
}

}  // namespace assas::agent
