#include "agent/delivery.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include "base/log.h"

namespace assas::agent {

Delivery::Delivery(DiskBuffer& buffer, std::vector<OutputLanes> outputs, uint64_t made_before)
    : buffer_(buffer) {
  for (OutputLanes& spec : outputs) {
    Output& output = outputs_.emplace_back();
    output.name = std::move(spec.name);
    output.max_behind_bytes = spec.max_behind_bytes;
    output.lanes = std::move(spec.lanes);
    auto lane_count = static_cast<uint32_t>(output.lanes.size());
    for (uint32_t lane = 0; lane < lane_count; ++lane) {
      output.shippers.push_back(
          std::make_unique<Shipper>(buffer_, *output.lanes[lane], made_before, lane, lane_count));
      output.shippers.back()->set_on_progress([this] { on_progress(); });
    }
  }
}

Delivery::~Delivery() {
  ASSAS_CHECK(closed_ || outputs_.empty(), "Delivery destroyed before close() completed");
}

Status Delivery::start() {
  for (Output& output : outputs_) {
    for (size_t i = 0; i < output.lanes.size(); ++i) {
      ASSAS_RETURN_IF_ERROR(output.lanes[i]->start(*output.shippers[i]));
    }
  }
  return Status::ok();
}

void Delivery::set_on_released(std::function<void()> callback) {
  on_released_ = std::move(callback);
}

void Delivery::on_durable(uint64_t seq) {
  for (Output& output : outputs_) {
    for (auto& shipper : output.shippers) {
      shipper->on_durable(seq);
    }
  }
  if (checkpointed_upto_ > released_upto_) {
    on_progress();  // a lane with nothing of its own in the new batches is done with them at once
  }
}

void Delivery::on_checkpointed(uint64_t seq) {
  checkpointed_upto_ = std::max(checkpointed_upto_, seq);
  on_progress();
}

uint64_t Delivery::done_upto(const Output& output) {
  uint64_t done = std::numeric_limits<uint64_t>::max();
  for (const auto& shipper : output.shippers) {
    done = std::min(done, shipper->done_upto());
  }
  return done;
}

uint64_t Delivery::acked_upto() const {
  uint64_t done = outputs_.empty() ? 0 : std::numeric_limits<uint64_t>::max();
  for (const Output& output : outputs_) {
    done = std::min(done, done_upto(output));
  }
  return done;
}

void Delivery::on_progress() {
  if (closing_) {
    return;
  }
  cut_loose_laggards();
  release(std::min(acked_upto(), checkpointed_upto_));
}

// With several outputs, the one furthest behind holds the buffer. Past its own max_behind it is
// moved up to the next output's position: what lies between is dropped for it alone.
void Delivery::cut_loose_laggards() {
  if (outputs_.size() < 2) {
    return;
  }
  for (Output& output : outputs_) {
    if (output.max_behind_bytes == 0) {
      continue;
    }
    uint64_t done = done_upto(output);
    uint64_t behind = buffer_.bytes_after(done);
    if (behind <= output.max_behind_bytes) {
      continue;
    }
    uint64_t next = std::numeric_limits<uint64_t>::max();
    for (const Output& other : outputs_) {
      uint64_t other_done = done_upto(other);
      if (&other != &output && other_done > done) {
        next = std::min(next, other_done);
      }
    }
    if (next == std::numeric_limits<uint64_t>::max()) {
      continue;  // nobody is ahead: the buffer is full for everyone, and when_full decides
    }
    DiskBuffer::Span span = buffer_.records_between(done, next);
    output.cut_loose_batches += span.batches;
    output.cut_loose_events += span.events;
    // While it stays down it is cut again every time the others move on: one line per minute
    // with the running totals says as much as one per cut.
    auto now = std::chrono::steady_clock::now();
    if (output.last_cut_log == std::chrono::steady_clock::time_point{} ||
        now - output.last_cut_log >= std::chrono::minutes(1)) {
      output.last_cut_log = now;
      ASSAS_LOG(kError,
                "an output stayed too far behind and was cut loose: batches dropped for it alone",
                log::kv("output", output.name), log::kv("behind_bytes", behind),
                log::kv("max_behind", output.max_behind_bytes), log::kv("from_seq", done + 1),
                log::kv("upto_seq", next), log::kv("batches", span.batches),
                log::kv("events", span.events), log::kv("events_total", output.cut_loose_events));
    }
    for (auto& shipper : output.shippers) {
      shipper->skip_to(next);
    }
  }
}

void Delivery::release(uint64_t upto) {
  if (upto <= released_upto_) {
    return;
  }
  released_upto_ = upto;
  buffer_.release(upto);
  for (Output& output : outputs_) {
    for (auto& shipper : output.shippers) {
      shipper->on_released(upto);
    }
  }
  if (on_released_) {
    on_released_();
  }
}

DiskBuffer::Span Delivery::drop_oldest() {
  DiskBuffer::Span span = buffer_.oldest_segment();
  if (span.upto != 0) {
    release(span.upto);
  }
  return span;
}

void Delivery::close(std::function<void()> on_closed) {
  if (closing_) {
    return;
  }
  closing_ = true;
  auto done = std::make_shared<std::function<void()>>(std::move(on_closed));
  for (Output& output : outputs_) {
    for (auto& shipper : output.shippers) {
      shipper->stop();
    }
    open_lanes_ += output.lanes.size();
  }
  if (open_lanes_ == 0) {
    closed_ = true;
    (*done)();
    return;
  }
  for (Output& output : outputs_) {
    for (auto& lane : output.lanes) {
      lane->close([this, done] {
        if (--open_lanes_ == 0) {
          closed_ = true;
          (*done)();
        }
      });
    }
  }
}

std::vector<DeliveryOutputStats> Delivery::stats() const {
  std::vector<DeliveryOutputStats> all;
  for (const Output& output : outputs_) {
    DeliveryOutputStats s;
    s.name = output.name;
    s.lanes = output.lanes.size();
    s.done_upto = done_upto(output);
    s.behind_bytes = buffer_.bytes_after(s.done_upto);
    s.cut_loose_batches = output.cut_loose_batches;
    s.cut_loose_events = output.cut_loose_events;
    s.shipping.without_session_since = std::chrono::steady_clock::time_point::min();
    for (size_t i = 0; i < output.lanes.size(); ++i) {
      const ShipperStats& sh = output.shippers[i]->stats();
      s.shipping.batches_sent += sh.batches_sent;
      s.shipping.batches_acked += sh.batches_acked;
      s.shipping.reconnects += sh.reconnects;
      s.shipping.corrupt_batches_skipped += sh.corrupt_batches_skipped;
      s.shipping.acked_upto = std::max(s.shipping.acked_upto, sh.acked_upto);
      s.shipping.events_acked += sh.events_acked;
      s.shipping.ack_latency.merge(sh.ack_latency);
      // The output has a session while any lane has one; without, since the latest loss.
      s.has_session = s.has_session || output.shippers[i]->connected();
      s.shipping.without_session_since =
          std::max(s.shipping.without_session_since, sh.without_session_since);
      transport::OutputStats io = output.lanes[i]->stats();
      s.io.connected = s.io.connected || io.connected;
      s.io.connects += io.connects;
      s.io.connect_failures += io.connect_failures;
      s.io.disconnects += io.disconnects;
      s.io.heartbeat_timeouts += io.heartbeat_timeouts;
      s.io.protocol_errors += io.protocol_errors;
      s.io.failbacks += io.failbacks;
      s.io.messages_truncated += io.messages_truncated;
      s.io.events_too_large += io.events_too_large;
      s.io.bytes_sent += io.bytes_sent;
      s.io.inflight_batches += io.inflight_batches;
      s.io.inflight_bytes += io.inflight_bytes;
      s.io.inflight_bytes_peak = std::max(s.io.inflight_bytes_peak, io.inflight_bytes_peak);
    }
    all.push_back(std::move(s));
  }
  return all;
}

}  // namespace assas::agent
