#include "transport/client/assas_output.h"

#include <deque>
#include <random>

#include "base/log.h"
#include "base/uv_util.h"
#include "transport/client/backoff.h"
#include "transport/client/client_connection.h"
#include "transport/endpoint.h"
#include "transport/protocol/frame_codec.h"
#include "transport/tls/tls_context.h"

namespace assas::transport {
namespace {

using std::chrono::milliseconds;

// The output's state machine: kWaiting (backoff timer) → kConnecting (resolve, TCP, TLS, hello)
// → kReady (HelloOk received) → kWaiting on any failure; kClosing once close() was called.
enum class State { kWaiting, kConnecting, kReady, kClosing };

class AssasOutput final : public Output, private ClientConnection::Owner {
 public:
  AssasOutput(uv_loop_t* loop, AssasOutputOptions options, std::vector<Endpoint> endpoints,
              std::shared_ptr<TlsContext> tls)
      : loop_(loop),
        options_(std::move(options)),
        endpoints_(std::move(endpoints)),
        tls_(std::move(tls)),
        backoff_(options_.backoff_min, options_.backoff_max, [this] { return random_(); }),
        random_(std::random_device{}()),
        preferred_(options_.first_endpoint % endpoints_.size()),
        endpoint_index_(preferred_) {
    for (uv_timer_t* timer : {&retry_timer_, &heartbeat_timer_, &failback_timer_}) {
      ASSAS_CHECK(uv_timer_init(loop_, timer) == 0, "timer init cannot fail");
      timer->data = this;
    }
  }

  ~AssasOutput() override {
    ASSAS_CHECK(closed_, "AssasOutput destroyed before close() completed");
  }

  const std::string& name() const override { return options_.name; }

  Status start(OutputListener& listener) override {
    listener_ = &listener;
    connect_next();
    return Status::ok();
  }

  bool can_send() const override {
    if (state_ != State::kReady || draining_) {
      return false;
    }
    if (inflight_.empty()) {
      return true;  // one batch always fits, so an oversized batch cannot wedge the output
    }
    return inflight_.size() < window_batches_ && inflight_bytes_ < window_bytes_ &&
           inflight_bytes_ < options_.max_inflight_bytes;
  }

  void send(OutgoingBatch batch) override {
    if (state_ != State::kReady || connection_ == nullptr) {
      return;  // the shipper resends after the next on_connected
    }
    BatchFrame frame{batch.seq, batch.event_count, batch.raw_size, batch.codec, *batch.payload};
    std::string header;
    encode_batch_frame_header(frame, header);
    connection_->send_plaintext(header);
    connection_->send_plaintext(*batch.payload);
    inflight_.push_back(Inflight{batch.seq, batch.payload->size()});
    inflight_bytes_ += batch.payload->size();
    stats_.inflight_bytes_peak = std::max(stats_.inflight_bytes_peak, inflight_bytes_);
    highest_sent_ = std::max(highest_sent_, batch.seq);
    last_sent_ms_ = uv_now(loop_);
  }

  OutputStats stats() const override {
    OutputStats s = stats_;
    s.connected = state_ == State::kReady;
    s.inflight_batches = inflight_.size();
    s.inflight_bytes = inflight_bytes_;
    return s;
  }

  void close(std::function<void()> on_closed) override {
    if (state_ == State::kClosing) {
      return;
    }
    bool was_ready = state_ == State::kReady;
    state_ = State::kClosing;
    on_closed_ = std::move(on_closed);
    (void)was_ready;  // no listener calls after close() started
    if (connection_ != nullptr) {
      connection_->close(Status::ok());
    }
    for (uv_timer_t* timer : {&retry_timer_, &heartbeat_timer_, &failback_timer_}) {
      uv_timer_stop(timer);
      closer_.close(timer);
    }
    closer_.when_closed([](void* self) { static_cast<AssasOutput*>(self)->maybe_closed(); }, this);
  }

 private:
  struct Inflight {
    uint64_t seq;
    size_t bytes;
  };

  void connect_next() {
    if (state_ == State::kClosing) {
      return;
    }
    state_ = State::kConnecting;
    const Endpoint& endpoint = endpoints_[endpoint_index_];
    std::string server_name =
        options_.tls.server_name.empty() ? endpoint.host : options_.tls.server_name;
    HelloFrame hello{kProtocolVersion, options_.agent_id, options_.host, options_.stream_id};
    connection_ = ClientConnection::start(loop_, *this, endpoint, tls_, server_name, hello,
                                          options_.max_frame_bytes, options_.connect_timeout);
    ++live_connections_;
  }

  // ClientConnection::Owner
  void on_frame(ClientConnection& connection, const Frame& frame) override {
    if (&connection != connection_ || state_ == State::kClosing) {
      return;
    }
    last_frame_ms_ = uv_now(loop_);
    if (const auto* ok = std::get_if<HelloOkFrame>(&frame)) {
      on_hello_ok(*ok);
    } else if (const auto* ack = std::get_if<AckFrame>(&frame)) {
      on_ack(*ack);
    } else if (const auto* ping = std::get_if<PingFrame>(&frame)) {
      connection_->send_frame(PongFrame{ping->nonce});
    } else if (std::holds_alternative<PongFrame>(frame)) {
      // its arrival is what counts (last_frame_ms_)
    } else if (const auto* error = std::get_if<ErrorFrame>(&frame)) {
      fail(unavailable("receiver reported an error: " + error->message));
    } else {
      fail(corruption("receiver sent an unexpected frame"));
    }
  }

  void on_connection_failed(ClientConnection& connection, const Status& why) override {
    if (&connection == connection_) {
      fail(why);
    }
  }

  void on_connection_closed(ClientConnection& connection) override {
    if (&connection == connection_) {
      connection_ = nullptr;
    }
    --live_connections_;
    maybe_closed();
  }

  void on_hello_ok(const HelloOkFrame& ok) {
    if (state_ != State::kConnecting) {
      fail(corruption("receiver sent a second hello_ok"));
      return;
    }
    if (ok.version != kProtocolVersion) {
      fail(invalid_argument("receiver speaks protocol version " + std::to_string(ok.version) +
                            ", this agent " + std::to_string(kProtocolVersion)));
      return;
    }
    state_ = State::kReady;
    draining_ = false;
    ++stats_.connects;
    connection_->connected();
    window_batches_ = std::max<uint32_t>(ok.window_batches, 1);
    window_bytes_ = std::max<uint64_t>(ok.window_bytes, 1);
    highest_sent_ = ok.stored_upto;
    inflight_.clear();
    inflight_bytes_ = 0;
    backoff_.reset();
    last_frame_ms_ = last_sent_ms_ = uv_now(loop_);
    arm_heartbeat();
    ASSAS_LOG(kInfo, "connected to receiver", log::kv("output", options_.name),
              log::kv("endpoint", endpoints_[endpoint_index_].to_string()),
              log::kv("window_batches", window_batches_));
    if (endpoint_index_ != preferred_ && options_.failback_after.count() > 0) {
      int rc = uv_timer_start(&failback_timer_, &AssasOutput::on_failback_due,
                              static_cast<uint64_t>(options_.failback_after.count()), 0);
      ASSAS_CHECK(rc == 0, "timer start cannot fail");
    }
    Status accepted = listener_->on_connected(ok.stored_upto);
    if (!accepted.is_ok()) {
      fail(accepted);
    }
  }

  void on_ack(const AckFrame& ack) {
    if (state_ != State::kReady) {
      fail(corruption("receiver acknowledged before hello_ok"));
      return;
    }
    if (ack.stored_upto > highest_sent_) {
      // A receiver that claims to hold what it was never sent would make us release data.
      fail(corruption("receiver acknowledged seq " + std::to_string(ack.stored_upto) +
                      " but only " + std::to_string(highest_sent_) + " was sent"));
      return;
    }
    bool could_send = can_send();
    while (!inflight_.empty() && inflight_.front().seq <= ack.stored_upto) {
      inflight_bytes_ -= inflight_.front().bytes;
      inflight_.pop_front();
    }
    window_batches_ = std::max<uint32_t>(ack.window_batches, 1);
    window_bytes_ = std::max<uint64_t>(ack.window_bytes, 1);
    listener_->on_acked(ack.stored_upto);
    if (draining_ && inflight_.empty()) {
      fail_back();
      return;
    }
    if (!could_send && can_send()) {
      listener_->on_writable();
    }
  }

  static void on_failback_due(uv_timer_t* timer) noexcept {
    auto* self = static_cast<AssasOutput*>(timer->data);
    if (self->state_ != State::kReady) {
      return;
    }
    ASSAS_LOG(kInfo, "trying the preferred receiver again; finishing the batches in flight first",
              log::kv("output", self->options_.name),
              log::kv("preferred", self->endpoints_[self->preferred_].to_string()),
              log::kv("inflight_batches", static_cast<uint64_t>(self->inflight_.size())));
    self->draining_ = true;
    if (self->inflight_.empty()) {
      self->fail_back();
    }
  }

  // Every batch sent here is acknowledged: closing now leaves nothing for this receiver to finish,
  // so the preferred one takes over from the next batch without a duplicate.
  void fail_back() {
    ++stats_.failbacks;
    uv_timer_stop(&heartbeat_timer_);
    connection_->close(Status::ok());
    connection_ = nullptr;
    state_ = State::kWaiting;
    draining_ = false;
    listener_->on_disconnected(unavailable("moving back to the preferred receiver"));
    endpoint_index_ = preferred_;
    int rc = uv_timer_start(&retry_timer_, &AssasOutput::on_retry, 0, 0);
    ASSAS_CHECK(rc == 0, "timer start cannot fail");
  }

  // The next look: a tick of min(interval, timeout/2) for the pings, but never past the moment the
  // silence reaches heartbeat.timeout, so that a dead peer is found at the timeout, not up to a
  // tick later.
  void arm_heartbeat() {
    auto interval = static_cast<uint64_t>(options_.heartbeat_interval.count());
    auto timeout = static_cast<uint64_t>(options_.heartbeat_timeout.count());
    uint64_t tick = std::max<uint64_t>(1, std::min(interval, timeout / 2));
    uint64_t now = uv_now(loop_);
    uint64_t silent_until = last_frame_ms_ + timeout;
    uint64_t next = silent_until > now ? std::min(tick, silent_until - now) : 1;
    int rc = uv_timer_start(&heartbeat_timer_, &AssasOutput::on_heartbeat, next, 0);
    ASSAS_CHECK(rc == 0, "timer start cannot fail");
  }

  static void on_heartbeat(uv_timer_t* timer) noexcept {
    auto* self = static_cast<AssasOutput*>(timer->data);
    if (self->state_ != State::kReady || self->connection_ == nullptr) {
      return;
    }
    uint64_t now = uv_now(self->loop_);
    if (now - self->last_frame_ms_ >=
        static_cast<uint64_t>(self->options_.heartbeat_timeout.count())) {
      ++self->stats_.heartbeat_timeouts;
      self->fail(unavailable("no frame from the receiver for " +
                             std::to_string(now - self->last_frame_ms_) +
                             " ms; peer presumed dead"));
      return;
    }
    if (now - self->last_sent_ms_ >=
            static_cast<uint64_t>(self->options_.heartbeat_interval.count()) ||
        now - self->last_frame_ms_ >=
            static_cast<uint64_t>(self->options_.heartbeat_interval.count())) {
      self->connection_->send_frame(PingFrame{now});
      self->last_sent_ms_ = now;
    }
    self->arm_heartbeat();
  }

  void fail(const Status& why) {
    if (state_ == State::kClosing) {
      return;
    }
    bool was_ready = state_ == State::kReady;
    ++(was_ready ? stats_.disconnects : stats_.connect_failures);
    if (why.code() == StatusCode::kCorruption || why.code() == StatusCode::kInvalidArgument) {
      ++stats_.protocol_errors;
    }
    draining_ = false;
    uv_timer_stop(&heartbeat_timer_);
    uv_timer_stop(&failback_timer_);
    if (connection_ != nullptr) {
      connection_->close(why);
      connection_ = nullptr;
    }
    inflight_.clear();
    inflight_bytes_ = 0;
    state_ = State::kWaiting;
    ASSAS_LOG(kWarn, was_ready ? "connection to receiver lost" : "cannot connect to receiver",
              log::kv("output", options_.name),
              log::kv("endpoint", endpoints_[endpoint_index_].to_string()),
              log::kv("error", why.to_string()));
    if (was_ready) {
      listener_->on_disconnected(why);
    }
    // Failover: the next endpoint at once; after a whole round, back off.
    endpoint_index_ = (endpoint_index_ + 1) % endpoints_.size();
    milliseconds delay = endpoint_index_ == preferred_ ? backoff_.next() : milliseconds(0);
    int rc = uv_timer_start(&retry_timer_, &AssasOutput::on_retry,
                            static_cast<uint64_t>(delay.count()), 0);
    ASSAS_CHECK(rc == 0, "timer start cannot fail");
  }

  static void on_retry(uv_timer_t* timer) noexcept {
    static_cast<AssasOutput*>(timer->data)->connect_next();
  }

  void maybe_closed() {
    if (state_ != State::kClosing || live_connections_ > 0 || !closer_.idle() || closed_ ||
        !on_closed_) {
      return;
    }
    closed_ = true;
    auto done = std::move(on_closed_);
    done();
  }

  uv_loop_t* loop_;
  AssasOutputOptions options_;
  std::vector<Endpoint> endpoints_;
  std::shared_ptr<TlsContext> tls_;
  Backoff backoff_;
  std::mt19937_64 random_;
  size_t preferred_;
  size_t endpoint_index_;
  OutputListener* listener_ = nullptr;
  State state_ = State::kWaiting;
  bool draining_ = false;                   // failback waits for the batches in flight
  ClientConnection* connection_ = nullptr;  // owned by itself until on_connection_closed
  int live_connections_ = 0;
  std::deque<Inflight> inflight_;
  uint64_t inflight_bytes_ = 0;
  uint32_t window_batches_ = 1;
  uint64_t window_bytes_ = 1;
  uint64_t highest_sent_ = 0;
  uint64_t last_frame_ms_ = 0;
  uint64_t last_sent_ms_ = 0;
  uv_timer_t retry_timer_{};
  uv_timer_t heartbeat_timer_{};
  uv_timer_t failback_timer_{};
  OutputStats stats_;
  HandleCloser closer_;
  std::function<void()> on_closed_;
  bool closed_ = false;
};

}  // namespace

Result<std::unique_ptr<Output>> make_assas_output(uv_loop_t* loop, AssasOutputOptions options) {
  if (options.endpoints.empty()) {
    return invalid_argument(
        "endpoints: list at least one receiver, e.g. [\"soc1.example.ma:6514\"]");
  }
  std::vector<Endpoint> endpoints;
  for (const std::string& text : options.endpoints) {
    Result<Endpoint> e = parse_endpoint(text);
    if (!e.is_ok()) {
      return e.status();
    }
    endpoints.push_back(*e);
  }
  Result<std::shared_ptr<TlsContext>> tls = TlsContext::make_client(options.tls);
  if (!tls.is_ok()) {
    return tls.status().with_context("tls");
  }
  return std::unique_ptr<Output>(
      new AssasOutput(loop, std::move(options), std::move(endpoints), std::move(tls).value()));
}

}  // namespace assas::transport
