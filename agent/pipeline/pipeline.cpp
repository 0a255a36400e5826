#include "agent/pipeline/pipeline.h"

#include <algorithm>
#include <string_view>
#include <unordered_set>

#include "base/log.h"

namespace assas::agent {

namespace {

// Bytes a record takes in the buffer beyond its payload (framing, header, positions): an
// estimate for has_room(), which only needs to be close.
size_t record_overhead(const BufferRecord& record) {
  size_t bytes = 64 + 80 + record.chain.signature.size();  // framing and header, chain fields
  for (const auto& [source_id, position] : record.positions) {
    bytes += source_id.size() + position.token.size() + 24;
  }
  return bytes;
}

Batcher::TimePoint loop_now(uv_loop_t* loop) {
  return Batcher::TimePoint(std::chrono::milliseconds(uv_now(loop)));
}

}  // namespace

Pipeline::Pipeline(uv_loop_t* loop, Worker& worker, DiskBuffer& buffer, CheckpointStore& store,
                   PipelineOptions options)
    : loop_(loop),
      worker_(worker),
      buffer_(buffer),
      store_(store),
      options_(std::move(options)),
      batcher_(options_.limits),
      compressor_(options_.compression_level),
      chain_(options_.chain),
      next_seq_(options_.first_seq) {
  int rc = uv_timer_init(loop_, &timer_);
  ASSAS_CHECK(rc == 0, "uv_timer_init cannot fail on a valid loop");
  rc = uv_timer_init(loop_, &retry_timer_);
  ASSAS_CHECK(rc == 0, "uv_timer_init cannot fail on a valid loop");
  timer_.data = this;
  retry_timer_.data = this;
}

Pipeline::~Pipeline() {
  ASSAS_CHECK(closed_, "Pipeline destroyed before shutdown() completed");
}

void Pipeline::add_collector(Collector* collector) {
  collectors_.push_back(collector);
  collector_counts_.push_back(CollectorCounts{collector->name()});
  for (int r = 0; r < kPauseReasonCount; ++r) {
    if (paused_[r]) {
      collector->pause(static_cast<PauseReason>(r));
    }
  }
}

void Pipeline::set_on_durable(std::function<void(uint64_t seq)> callback) {
  on_durable_ = std::move(callback);
}

bool Pipeline::push(const StreamPtr& stream, const Event& event) {
  if (paused_[static_cast<int>(PauseReason::kPipelineBusy)] ||
      paused_[static_cast<int>(PauseReason::kBufferFull)] || shutting_down_) {
    return false;
  }
  batcher_.add(stream, event, loop_now(loop_));
  ++stats_.events_in;
  CollectorCounts& counts = counts_of(stream);
  ++counts.events;
  counts.bytes += event.message.size();
  if (batcher_.full()) {
    cut_batch(/*aged=*/false);
  } else {
    arm_timer();
  }
  return true;
}

CollectorCounts& Pipeline::counts_of(const StreamPtr& stream) {
  if (stream != counted_stream_) {
    counted_stream_ = stream;
    auto it =
        std::find_if(collector_counts_.begin(), collector_counts_.end(),
                     [&](const CollectorCounts& c) { return c.collector == stream->collector; });
    if (it == collector_counts_.end()) {
      collector_counts_.push_back(CollectorCounts{stream->collector});
      it = collector_counts_.end() - 1;
    }
    counted_index_ = static_cast<size_t>(it - collector_counts_.begin());
  }
  return collector_counts_[counted_index_];
}

void Pipeline::forget(const std::vector<std::string>& source_ids) {
  if (source_ids.empty()) {
    return;
  }
  std::unordered_set<std::string_view> gone(source_ids.begin(), source_ids.end());
  store_.retain_if([&](const std::string& source_id) { return gone.count(source_id) == 0; });
}

void Pipeline::flush() {
  if (!batcher_.empty()) {
    cut_batch(/*aged=*/!batcher_.full());
  }
}

void Pipeline::arm_timer() {
  if (timer_armed_ || batcher_.empty()) {
    return;
  }
  auto wait =
      std::chrono::duration_cast<std::chrono::milliseconds>(batcher_.deadline() - loop_now(loop_));
  uint64_t wait_ms = wait.count() > 0 ? static_cast<uint64_t>(wait.count()) : 0;
  timer_armed_ = true;
  int rc = uv_timer_start(&timer_, &Pipeline::on_timer, wait_ms, 0);
  ASSAS_CHECK(rc == 0, "uv_timer_start cannot fail on an initialised timer");
}

void Pipeline::on_timer(uv_timer_t* timer) noexcept {
  auto* self = static_cast<Pipeline*>(timer->data);
  self->timer_armed_ = false;
  if (self->batcher_.due(loop_now(self->loop_))) {
    self->cut_batch(/*aged=*/!self->batcher_.full());
  } else {
    self->arm_timer();
  }
}

// aged: cut before it was full (by max_delay, or a flush); such a batch is always signed.
void Pipeline::cut_batch(bool aged) {
  RawBatch batch = batcher_.take(options_.host);
  if (timer_armed_) {
    uv_timer_stop(&timer_);
    timer_armed_ = false;
  }
  auto state = std::make_shared<Compressed>();
  state->record.seq = next_seq_++;
  state->record.event_count = batch.event_count;
  state->record.raw_size = static_cast<uint32_t>(batch.raw.size());
  state->record.codec = options_.codec;
  state->record.positions = std::move(batch.positions);
  state->raw_bytes = batch.raw.size();
  ++in_flight_;
  auto raw = std::make_shared<std::string>(std::move(batch.raw));
  auto cut_at = std::chrono::milliseconds(uv_now(loop_));
  // Compression runs on the worker: zstd on a 1 MiB batch takes milliseconds, too long for the
  // loop. The worker is FIFO, so compressed batches come back in seq order, and they are linked
  // into the chain in that order too.
  worker_.post(
      [this, state, raw, aged, cut_at] {
        state->chain = chain_.link(state->record, *raw, aged, cut_at);
        auto payload = std::make_shared<std::string>();
        Status s = compressor_.compress(state->record.codec, *raw, *payload);
        if (!s.is_ok()) {
          // Keep the data whatever zstd says: store it uncompressed.
          state->record.codec = transport::Codec::kNone;
          payload->assign(*raw);
        }
        // Compression wrote into room for the worst case (about the raw size); the buffer's cache
        // of recent batches counts size(), so give the rest back, or every cached batch would pin
        // its raw size in memory (found by the receiver-outage test: RSS grew ~100 B per line).
        payload->shrink_to_fit();
        state->record.payload = std::move(payload);
      },
      [this, state] {
        stats_.chain_signatures += state->chain.signed_batch ? 1 : 0;
        stats_.chain_signature_failures += state->chain.sign_failed ? 1 : 0;
        waiting_.push_back(std::move(*state));
        submit_next();
      });
  update_pauses();
}

void Pipeline::set_drop_oldest(std::function<DiskBuffer::Span()> drop_oldest) {
  drop_oldest_ = std::move(drop_oldest);
}

void Pipeline::submit_next() {
  while (!appending_ && !waiting_.empty()) {
    const BufferRecord& front = waiting_.front().record;
    if (buffer_.has_room(front.payload->size() + record_overhead(front))) {
      break;
    }
    if (!drop_for_room()) {
      update_pauses();
      return;
    }
  }
  if (appending_ || waiting_.empty()) {
    update_pauses();  // a dropped batch is one fewer in flight
    return;
  }
  maybe_end_dropping();
  const BufferRecord& record = waiting_.front().record;
  appending_ = true;
  uint64_t seq = record.seq;
  buffer_.append(record, [this, seq](const Status& status) { on_durable(seq, status); });
}

void Pipeline::on_durable(uint64_t seq, const Status& status) {
  appending_ = false;
  ASSAS_CHECK(!waiting_.empty() && waiting_.front().record.seq == seq,
              "the buffer completes appends in the order they were made");
  if (!status.is_ok()) {
    ++stats_.buffer_write_errors;
    if (!write_failed_) {
      ASSAS_LOG(kError, "cannot write to the disk buffer; reading is paused and the batch is kept",
                log::kv("seq", seq), log::kv("error", status.to_string()));
    }
    write_failed_ = true;
    write_failure_ = status.code();
    set_paused(PauseReason::kBufferFull, true);
    int rc = uv_timer_start(&retry_timer_, &Pipeline::on_retry_timer,
                            static_cast<uint64_t>(options_.retry_delay.count()), 0);
    ASSAS_CHECK(rc == 0, "uv_timer_start cannot fail on an initialised timer");
    return;
  }
  if (write_failed_) {
    write_failed_ = false;
    ASSAS_LOG(kInfo, "disk buffer writes succeed again", log::kv("seq", seq));
  }
  Compressed done = std::move(waiting_.front());
  waiting_.pop_front();
  --in_flight_;
  ++stats_.batches_durable;
  stats_.bytes_raw += done.raw_bytes;
  stats_.bytes_compressed += done.record.payload->size();
  // Durable first, then checkpoint: the store persists these positions only now.
  lines_done(done.record);
  if (on_durable_) {
    on_durable_(seq);
  }
  submit_next();
  update_pauses();
  maybe_finish_shutdown();
}

bool Pipeline::drop_for_room() {
  if (options_.when_full == WhenFull::kDropNewest) {
    drop_newest();
    return true;
  }
  if (options_.when_full != WhenFull::kDropOldest || !drop_oldest_) {
    return false;
  }
  making_room_ = true;  // the release calls on_buffer_space(); this loop goes on by itself
  DiskBuffer::Span span = drop_oldest_();
  making_room_ = false;
  if (span.batches == 0) {
    return false;  // only the newest segment is left: wait as with block
  }
  stats_.dropped_oldest_batches += span.batches;
  stats_.dropped_oldest_events += span.events;
  spell_dropped_events_ += span.events;
  if (!dropping_) {
    dropping_ = true;
    ASSAS_LOG(kError, "disk buffer is full; dropping the oldest batches (when_full: drop_oldest)",
              log::kv("upto_seq", span.upto), log::kv("events", span.events));
  }
  return true;
}

// The lines of a dropped batch are gone by policy: they count as done, so that the checkpoint moves
// past them and the collectors go on as if the batch had been stored.
void Pipeline::drop_newest() {
  Compressed dropped = std::move(waiting_.front());
  waiting_.pop_front();
  --in_flight_;
  ++stats_.dropped_newest_batches;
  stats_.dropped_newest_events += dropped.record.event_count;
  spell_dropped_events_ += dropped.record.event_count;
  if (!dropping_) {
    dropping_ = true;
    ASSAS_LOG(kError, "disk buffer is full; dropping new batches (when_full: drop_newest)",
              log::kv("seq", dropped.record.seq), log::kv("events", dropped.record.event_count));
  }
  lines_done(dropped.record);
  maybe_finish_shutdown();
}

// The batch's lines are done with (durable, or dropped by policy): the checkpoint may move past
// them, and the collectors may let go of what they held for them.
void Pipeline::lines_done(const BufferRecord& record) {
  store_.update(record.seq, record.positions);
  for (Collector* collector : collectors_) {
    for (const auto& [source_id, position] : record.positions) {
      collector->on_durable(source_id, position);
    }
  }
}

// A spell of dropping ends once a quarter of the buffer is free again, not at the first batch
// that fits: under a steady overload every acknowledgement would otherwise end a spell and the
// next batch start another, two log lines each time.
void Pipeline::maybe_end_dropping() {
  if (!dropping_ || !buffer_.has_room(buffer_.max_size_bytes() / 4)) {
    return;
  }
  dropping_ = false;
  ASSAS_LOG(kWarn, "disk buffer has room again; stopped dropping",
            log::kv("events_dropped", spell_dropped_events_),
            log::kv("dropped_total", stats_.dropped_newest_events + stats_.dropped_oldest_events));
  spell_dropped_events_ = 0;
}

void Pipeline::on_retry_timer(uv_timer_t* timer) noexcept {
  auto* self = static_cast<Pipeline*>(timer->data);
  self->submit_next();
}

void Pipeline::on_buffer_space() {
  if (making_room_) {
    return;
  }
  maybe_end_dropping();
  submit_next();
  update_pauses();
}

void Pipeline::update_pauses() {
  set_paused(PauseReason::kPipelineBusy, in_flight_ > options_.max_pending_batches);
  bool no_room = false;
  if (!waiting_.empty() && !appending_ && options_.when_full != WhenFull::kDropNewest) {
    const BufferRecord& front = waiting_.front().record;
    no_room = !buffer_.has_room(front.payload->size() + record_overhead(front));
  }
  // After a failed write, reading stays paused until a retry succeeds.
  set_paused(PauseReason::kBufferFull, no_room || write_failed_);
}

void Pipeline::set_paused(PauseReason reason, bool paused) {
  bool& current = paused_[static_cast<int>(reason)];
  if (current == paused) {
    return;
  }
  current = paused;
  if (reason == PauseReason::kBufferFull) {
    stats_.reading_paused_full = paused;
    const char* what = !paused ? "disk buffer has room; reading resumed"
                       : write_failed_ && write_failure_ != StatusCode::kResourceExhausted
                           ? "disk buffer refuses writes (an I/O error); reading paused"
                           : "disk buffer is full; reading paused";
    ASSAS_LOG(kInfo, what, log::kv("buffer_bytes", buffer_.size_bytes()));
  }
  for (Collector* collector : collectors_) {
    if (paused) {
      collector->pause(reason);
    } else {
      collector->resume(reason);
    }
  }
}

void Pipeline::shutdown(std::function<void()> on_done) {
  shutting_down_ = true;
  on_shutdown_done_ = std::move(on_done);
  flush();
  maybe_finish_shutdown();
}

void Pipeline::maybe_finish_shutdown() {
  if (!shutting_down_ || !idle() || !on_shutdown_done_) {
    return;
  }
  uv_timer_stop(&timer_);
  uv_timer_stop(&retry_timer_);
  closer_.close(&timer_);
  closer_.close(&retry_timer_);
  closer_.when_closed(
      [](void* self) {
        auto* pipeline = static_cast<Pipeline*>(self);
        pipeline->closed_ = true;
        auto done = std::move(pipeline->on_shutdown_done_);
        done();
      },
      this);
}

}  // namespace assas::agent
