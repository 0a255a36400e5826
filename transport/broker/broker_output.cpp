#include "transport/broker/broker_output.h"

#include <algorithm>
#include <cstdio>
#include <random>

#include "base/log.h"
#include "transport/protocol/batch_codec.h"
#include "transport/protocol/event_json.h"

namespace assas::transport {
namespace {

// The most a batch may decompress to: the pipeline's own limit on a batch (64 MiB) with room.
constexpr uint32_t kMaxRawBatchBytes = 128U << 20;
// How long the publisher thread waits between polls of a library that needs them (Kafka) while
// something is in flight: the delivery reports' added latency, at most.
constexpr std::chrono::milliseconds kPollInterval{5};

}  // namespace

std::string broker_message_id(std::string_view agent_id, uint64_t stream_id, uint64_t seq,
                              int64_t index) {
  char tail[64];
  int n = index < 0
              ? std::snprintf(tail, sizeof tail, ":%016llx:%llu",
                              static_cast<unsigned long long>(stream_id),
                              static_cast<unsigned long long>(seq))
              : std::snprintf(tail, sizeof tail, ":%016llx:%llu:%lld",
                              static_cast<unsigned long long>(stream_id),
                              static_cast<unsigned long long>(seq), static_cast<long long>(index));
  std::string id(agent_id);
  id.append(tail, static_cast<size_t>(n));
  return id;
}

BrokerOutput::BrokerOutput(uv_loop_t* loop, BrokerOptions options,
                           std::unique_ptr<BrokerClient> client)
    : loop_(loop), options_(std::move(options)), client_(std::move(client)) {
  uv_async_init(loop_, &events_async_, &BrokerOutput::on_events);
  events_async_.data = this;
  uv_timer_init(loop_, &watchdog_);
  watchdog_.data = this;
  handles_open_ = true;
}

BrokerOutput::~BrokerOutput() {
  // close() must have run to its end: the thread is joined and the handles are closed.
  if (publisher_.joinable()) {
    ASSAS_LOG(kError, "output destroyed before it closed; joining its publisher thread",
              log::kv("output", options_.name));
    {
      std::lock_guard lock(mutex_);
      commands_.push_back(Command{Command::Kind::kStop, 0, {}});
    }
    wake_publisher_.notify_one();
    publisher_.join();
  }
}

Status BrokerOutput::start(OutputListener& listener) {
  listener_ = &listener;
  last_progress_ = std::chrono::steady_clock::now();
  if (options_.ack_timeout.count() > 0) {
    auto tick = static_cast<uint64_t>(std::max<int64_t>(options_.ack_timeout.count() / 4, 100));
    uv_timer_start(&watchdog_, &BrokerOutput::on_watchdog, tick, tick);
  }
  publisher_ = std::thread([this] { run_publisher(); });
  return Status::ok();
}

bool BrokerOutput::can_send() const {
  return state_ == State::kReady && inflight_.size() < options_.max_inflight_batches &&
         inflight_bytes_ < options_.max_inflight_bytes;
}

void BrokerOutput::send(OutgoingBatch batch) {
  if (state_ != State::kReady) {
    return;  // the shipper sends it again after the next on_connected
  }
  if (inflight_.empty()) {
    last_progress_ = std::chrono::steady_clock::now();  // the watchdog counts from here
  }
  uint64_t bytes = batch.payload ? batch.payload->size() : 0;
  inflight_.push_back(Inflight{batch.seq, bytes, false});
  inflight_bytes_ += bytes;
  stats_.inflight_bytes_peak = std::max(stats_.inflight_bytes_peak, inflight_bytes_);
  command(Command{Command::Kind::kPublish, gen_, std::move(batch)});
}

OutputStats BrokerOutput::stats() const {
  OutputStats s = stats_;
  s.inflight_batches = inflight_.size();
  s.inflight_bytes = inflight_bytes_;
  s.bytes_sent = bytes_sent_.load(std::memory_order_relaxed);
  s.events_too_large = events_too_large_.load(std::memory_order_relaxed);
  return s;
}

void BrokerOutput::certificate_files(std::vector<CertificateFile>& out) const {
  append_certificate_files(options_, out);
}

void BrokerOutput::close(std::function<void()> on_closed) {
  if (state_ == State::kClosing || state_ == State::kClosed) {
    return;
  }
  on_closed_ = std::move(on_closed);
  state_ = State::kClosing;
  uv_timer_stop(&watchdog_);
  if (publisher_.joinable()) {
    command(Command{Command::Kind::kStop, gen_, {}});  // kStopped comes back, then finish_close
    return;
  }
  finish_close();
}

void BrokerOutput::finish_close() {
  if (publisher_.joinable()) {
    publisher_.join();
  }
  closer_.close(&events_async_);
  closer_.close(&watchdog_);
  closer_.when_closed(
      [](void* owner) {
        auto* self = static_cast<BrokerOutput*>(owner);
        self->state_ = State::kClosed;
        self->handles_open_ = false;
        if (self->on_closed_) {
          auto done = std::move(self->on_closed_);
          done();  // may destroy the output
        }
      },
      this);
}

// --- loop thread -------------------------------------------------------------------------------

void BrokerOutput::command(Command command) {
  {
    std::lock_guard lock(mutex_);
    commands_.push_back(std::move(command));
  }
  wake_publisher_.notify_one();
}

void BrokerOutput::on_events(uv_async_t* async) noexcept {
  auto* self = static_cast<BrokerOutput*>(async->data);
  std::deque<Event> events;
  {
    std::lock_guard lock(self->mutex_);
    events.swap(self->events_);
  }
  for (Event& event : events) {
    if (self->state_ == State::kClosed) {
      return;
    }
    self->handle(event);
  }
}

void BrokerOutput::handle(Event& event) {
  if (event.kind == Event::Kind::kStopped) {
    finish_close();
    return;
  }
  if (state_ == State::kClosing || event.gen != gen_) {
    return;  // from a session given up, or the output is closing
  }
  switch (event.kind) {
    case Event::Kind::kConnected: {
      if (state_ != State::kConnecting) {
        return;
      }
      state_ = State::kReady;
      stats_.connected = true;
      ++stats_.connects;
      last_progress_ = std::chrono::steady_clock::now();
      ASSAS_LOG(kInfo, "connected to the engine", log::kv("output", options_.name));
      // The engine does not say what it holds: the shipper resends from the last acknowledged
      // batch, and the engine drops what it already has by the message ids.
      Status accepted = listener_->on_connected(0);
      if (!accepted.is_ok()) {
        ++stats_.protocol_errors;
        fail(accepted);
      }
      return;
    }
    case Event::Kind::kConnectFailed:
      ++stats_.connect_failures;
      ASSAS_LOG(kWarn, "cannot connect to the engine", log::kv("output", options_.name),
                log::kv("error", event.status.to_string()));
      return;
    case Event::Kind::kPublished:
      on_published(event.seq, event.status);
      return;
    case Event::Kind::kStopped:
      return;
  }
}

void BrokerOutput::on_published(uint64_t seq, const Status& status) {
  if (state_ != State::kReady) {
    return;
  }
  if (!status.is_ok()) {
    fail(status.with_context("publishing batch " + std::to_string(seq)));
    return;
  }
  auto it = std::find_if(inflight_.begin(), inflight_.end(),
                         [seq](const Inflight& i) { return i.seq == seq; });
  if (it == inflight_.end()) {
    return;  // a duplicate report
  }
  it->done = true;
  bool could_send = can_send();
  uint64_t upto = 0;
  while (!inflight_.empty() && inflight_.front().done) {
    upto = inflight_.front().seq;
    inflight_bytes_ -= inflight_.front().bytes;
    inflight_.pop_front();
  }
  if (upto == 0) {
    return;  // an earlier batch is still unacknowledged: acknowledgements go in seq order
  }
  last_progress_ = std::chrono::steady_clock::now();
  listener_->on_acked(upto);
  if (!could_send && can_send()) {
    listener_->on_writable();
  }
}

void BrokerOutput::fail(const Status& why) {
  ++gen_;
  state_ = State::kConnecting;
  stats_.connected = false;
  ++stats_.disconnects;
  inflight_.clear();
  inflight_bytes_ = 0;
  ASSAS_LOG(kWarn, "session with the engine lost; unacknowledged batches will be sent again",
            log::kv("output", options_.name), log::kv("error", why.to_string()));
  command(Command{Command::Kind::kReset, gen_, {}});
  listener_->on_disconnected(why);
}

void BrokerOutput::on_watchdog(uv_timer_t* timer) noexcept {
  auto* self = static_cast<BrokerOutput*>(timer->data);
  if (self->state_ != State::kReady || self->inflight_.empty()) {
    return;
  }
  auto silent = std::chrono::steady_clock::now() - self->last_progress_;
  if (silent >= self->options_.ack_timeout) {
    ++self->stats_.heartbeat_timeouts;
    self->fail(unavailable("the engine acknowledged nothing for " +
                           std::to_string(self->options_.ack_timeout.count()) +
                           " ms (ack_timeout)"));
  }
}

// --- publisher thread --------------------------------------------------------------------------

void BrokerOutput::post(Event event) {
  {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(event));
  }
  uv_async_send(&events_async_);  // thread-safe; the handle lives until kStopped is handled
}

bool BrokerOutput::sleep_backoff(Backoff& backoff) {
  std::unique_lock lock(mutex_);
  return !wake_publisher_.wait_for(lock, backoff.next(), [this] {
    return std::any_of(commands_.begin(), commands_.end(),
                       [](const Command& c) { return c.kind == Command::Kind::kStop; });
  });
}

Status BrokerOutput::encode(const OutgoingBatch& batch) {
  EncodedBatch& out = encoded_;
  out.seq = batch.seq;
  out.json.clear();
  out.events.clear();
  ASSAS_RETURN_IF_ERROR(decompressor_.decompress(batch.codec, *batch.payload, batch.raw_size,
                                                 kMaxRawBatchBytes, out.raw));
  // Offsets first: json grows while it is written, so the views are made once it is complete.
  struct Span {
    size_t begin, end;
    std::string_view collector, source, host;
  };
  std::vector<Span> spans;
  spans.reserve(batch.event_count);
  Status decoded = decode_batch(
      out.raw, batch.event_count, [&](const DecodedBatchHeader& header, const DecodedEvent& event) {
        size_t begin = out.json.size();
        append_event_json(out.json, options_.agent_id, header.host, event);
        spans.push_back(Span{begin, out.json.size() - 1, event.stream->collector,
                             event.stream->source, header.host});
      });
  ASSAS_RETURN_IF_ERROR(decoded);
  std::string_view json = out.json;
  size_t max_event = client_->max_event_bytes();
  for (size_t i = 0; i < spans.size(); ++i) {
    const Span& span = spans[i];
    if (span.end - span.begin > max_event) {
      // The engine would refuse it at every resend, holding every batch behind it for good.
      events_too_large_.fetch_add(1, std::memory_order_relaxed);
      ASSAS_LOG(kError, "event larger than the engine takes in one message; dropped and counted",
                log::kv("output", options_.name), log::kv("seq", batch.seq),
                log::kv("index", static_cast<uint64_t>(i)),
                log::kv("bytes", static_cast<uint64_t>(span.end - span.begin)),
                log::kv("max", static_cast<uint64_t>(max_event)));
      continue;
    }
    out.events.push_back(EncodedEvent{json.substr(span.begin, span.end - span.begin),
                                      span.collector, span.source, span.host});
  }
  return Status::ok();
}

void BrokerOutput::run_publisher() {
  std::random_device seed;
  std::mt19937_64 random(seed());
  Backoff backoff(options_.backoff_min, options_.backoff_max, [&random] { return random(); });
  uint64_t gen = 0;
  bool connected = false;
  for (;;) {
    if (!connected) {
      Status s = client_->connect();
      if (s.is_ok()) {
        connected = true;
        backoff.reset();
        post(Event{Event::Kind::kConnected, gen, 0, Status::ok()});
      } else {
        client_->disconnect();
        post(Event{Event::Kind::kConnectFailed, gen, 0, s});
        if (!sleep_backoff(backoff)) {
          break;  // a stop came
        }
        // Publishes queued meanwhile are of this gen but were sent before any kConnected: the
        // loop only sends once ready, so there are none; resets are handled below.
      }
    }
    std::deque<Command> commands;
    {
      std::unique_lock lock(mutex_);
      bool polling = client_->needs_polling();
      auto has_work = [this] { return !commands_.empty(); };
      if (polling) {
        wake_publisher_.wait_for(lock, kPollInterval, has_work);
      } else if (connected) {
        wake_publisher_.wait(lock, has_work);
      }
      commands.swap(commands_);
    }
    bool stop = false;
    for (Command& c : commands) {
      if (c.kind == Command::Kind::kStop) {
        stop = true;
        break;
      }
      if (c.kind == Command::Kind::kReset) {
        client_->disconnect();
        connected = false;
        gen = c.gen;
        if (!sleep_backoff(backoff)) {
          stop = true;
          break;
        }
        continue;
      }
      if (c.gen != gen || !connected) {
        continue;  // of a session given up: the shipper sends it again after the reconnect
      }
      uint64_t seq = c.batch.seq;
      PublishDone done = [this, gen, seq](const Status& status) {
        post(Event{Event::Kind::kPublished, gen, seq, status});
      };
      Status encoded = encode(c.batch);
      if (!encoded.is_ok()) {
        // From our own CRC-checked buffer, so a bug rather than damage: logged, and counted as
        // delivered so that the batches after it still go (as the syslog outputs do).
        ASSAS_LOG(kError, "cannot decode a buffered batch; skipping it",
                  log::kv("output", options_.name), log::kv("seq", seq),
                  log::kv("error", encoded.to_string()));
        done(Status::ok());
        continue;
      }
      Status published = client_->publish(encoded_, done);
      if (!published.is_ok()) {
        done(published);
      }
      bytes_sent_.store(client_->bytes_sent(), std::memory_order_relaxed);
    }
    if (stop) {
      break;
    }
    if (connected && client_->needs_polling()) {
      client_->poll(std::chrono::milliseconds(0));
    }
    bytes_sent_.store(client_->bytes_sent(), std::memory_order_relaxed);
  }
  client_->disconnect();
  client_.reset();  // no PublishDone runs after this
  post(Event{Event::Kind::kStopped, gen, 0, Status::ok()});
}

}  // namespace assas::transport
