#include "transport/client/assas_output.h"

#include <deque>

#include "base/log.h"
#include "base/uv_util.h"
#include "transport/endpoint.h"
#include "transport/protocol/frame_codec.h"
#include "transport/tls/tls_context.h"

namespace assas::transport {
namespace {

class AssasOutput final : public SessionOutput {
 public:
  AssasOutput(uv_loop_t* loop, AssasOutputOptions options, std::vector<Endpoint> endpoints,
              std::shared_ptr<TlsContext> tls)
      : SessionOutput(loop, options, std::move(endpoints), std::move(tls)),
        options_(std::move(options)),
        decoder_(options_.max_frame_bytes) {
    ASSAS_CHECK(uv_timer_init(loop, &heartbeat_timer_) == 0, "timer init cannot fail");
    heartbeat_timer_.data = this;
  }

  bool can_send() const override {
    if (!ready() || draining()) {
      return false;
    }
    if (inflight_.empty()) {
      return true;  // one batch always fits, so an oversized batch cannot wedge the output
    }
    return inflight_.size() < window_batches_ && inflight_bytes_ < window_bytes_ &&
           inflight_bytes_ < options_.max_inflight_bytes;
  }

  void send(OutgoingBatch batch) override {
    if (!ready() || connection() == nullptr) {
      return;  // the shipper resends after the next on_connected
    }
    BatchFrame frame;
    frame.seq = batch.seq;
    frame.event_count = batch.event_count;
    frame.raw_size = batch.raw_size;
    frame.codec = batch.codec;
    frame.chain_flags = batch.chain.flags;
    frame.prev_seq = batch.chain.prev_seq;
    frame.prev_link = batch.chain.prev_link;
    frame.signature = batch.chain.signature;
    frame.payload = *batch.payload;
    std::string header;
    encode_batch_frame_header(frame, header);
    connection()->send(header);
    connection()->send(*batch.payload);
    inflight_.push_back(Inflight{batch.seq, batch.payload->size()});
    inflight_bytes_ += batch.payload->size();
    counters().inflight_bytes_peak = std::max(counters().inflight_bytes_peak, inflight_bytes_);
    highest_sent_ = std::max(highest_sent_, batch.seq);
    last_sent_ms_ = uv_now(loop());
  }

  OutputStats stats() const override {
    OutputStats s = SessionOutput::stats();
    s.inflight_batches = inflight_.size();
    s.inflight_bytes = inflight_bytes_;
    return s;
  }

 private:
  struct Inflight {
    uint64_t seq;
    size_t bytes;
  };

  void on_session_start(ClientConnection& connection) override {
    decoder_ = FrameDecoder(options_.max_frame_bytes);
    std::string hello;
    encode_frame(HelloFrame{kProtocolVersion, options_.agent_id, options_.host, options_.stream_id},
                 hello);
    connection.send(hello);
  }

  void on_session_bytes(std::string_view bytes) override {
    decoder_.feed(bytes);
    while (connection() != nullptr) {
      Result<std::optional<Frame>> frame = decoder_.next();
      if (!frame.is_ok()) {
        fail(frame.status().with_context("bad frame from receiver"));
        return;
      }
      if (!frame->has_value()) {
        return;
      }
      on_frame(**frame);
    }
  }

  void on_session_end() override {
    uv_timer_stop(&heartbeat_timer_);
    inflight_.clear();
    inflight_bytes_ = 0;
  }

  bool in_flight() const override { return !inflight_.empty(); }

  Status explain_failure(const Status& why) const override {
    return decoder_.closed_mid_frame(why);
  }

  void close_handles(HandleCloser& closer) override {
    uv_timer_stop(&heartbeat_timer_);
    closer.close(&heartbeat_timer_);
  }

  void on_frame(const Frame& frame) {
    last_frame_ms_ = uv_now(loop());
    if (const auto* ok = std::get_if<HelloOkFrame>(&frame)) {
      on_hello_ok(*ok);
    } else if (const auto* ack = std::get_if<AckFrame>(&frame)) {
      on_ack(*ack);
    } else if (const auto* ping = std::get_if<PingFrame>(&frame)) {
      send_frame(PongFrame{ping->nonce});
    } else if (std::holds_alternative<PongFrame>(frame)) {
      // its arrival is what counts (last_frame_ms_)
    } else if (const auto* error = std::get_if<ErrorFrame>(&frame)) {
      fail(unavailable("receiver reported an error: " + error->message));
    } else {
      fail(corruption("receiver sent an unexpected frame"));
    }
  }

  void send_frame(const Frame& frame) {
    std::string bytes;
    encode_frame(frame, bytes);
    connection()->send(bytes);
  }

  void on_hello_ok(const HelloOkFrame& ok) {
    if (ready()) {
      fail(corruption("receiver sent a second hello_ok"));
      return;
    }
    if (ok.version != kProtocolVersion) {
      fail(invalid_argument("receiver speaks protocol version " + std::to_string(ok.version) +
                            ", this agent " + std::to_string(kProtocolVersion)));
      return;
    }
    window_batches_ = std::max<uint32_t>(ok.window_batches, 1);
    window_bytes_ = std::max<uint64_t>(ok.window_bytes, 1);
    highest_sent_ = ok.stored_upto;
    inflight_.clear();
    inflight_bytes_ = 0;
    last_frame_ms_ = last_sent_ms_ = uv_now(loop());
    arm_heartbeat();
    ASSAS_LOG(kInfo, "receiver grants a window", log::kv("output", options_.name),
              log::kv("window_batches", window_batches_), log::kv("window_bytes", window_bytes_));
    session_established(ok.stored_upto);
  }

  void on_ack(const AckFrame& ack) {
    if (!ready()) {
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
    listener().on_acked(ack.stored_upto);
    progress();  // may fail back (failback waits for exactly this)
    if (ready() && !could_send && can_send()) {
      listener().on_writable();
    }
  }

  // The next look: a tick of min(interval, timeout/2) for the pings, but never past the moment the
  // silence reaches heartbeat.timeout, so that a dead peer is found at the timeout, not up to a
  // tick later.
  void arm_heartbeat() {
    auto interval = static_cast<uint64_t>(options_.heartbeat_interval.count());
    auto timeout = static_cast<uint64_t>(options_.heartbeat_timeout.count());
    uint64_t tick = std::max<uint64_t>(1, std::min(interval, timeout / 2));
    uint64_t now = uv_now(loop());
    uint64_t silent_until = last_frame_ms_ + timeout;
    uint64_t next = silent_until > now ? std::min(tick, silent_until - now) : 1;
    int rc = uv_timer_start(&heartbeat_timer_, &AssasOutput::on_heartbeat, next, 0);
    ASSAS_CHECK(rc == 0, "timer start cannot fail");
  }

  static void on_heartbeat(uv_timer_t* timer) noexcept {
    auto* self = static_cast<AssasOutput*>(timer->data);
    if (!self->ready() || self->connection() == nullptr) {
      return;
    }
    uint64_t now = uv_now(self->loop());
    if (now - self->last_frame_ms_ >=
        static_cast<uint64_t>(self->options_.heartbeat_timeout.count())) {
      ++self->counters().heartbeat_timeouts;
      self->fail(unavailable("no frame from the receiver for " +
                             std::to_string(now - self->last_frame_ms_) +
                             " ms; peer presumed dead"));
      return;
    }
    if (now - self->last_sent_ms_ >=
            static_cast<uint64_t>(self->options_.heartbeat_interval.count()) ||
        now - self->last_frame_ms_ >=
            static_cast<uint64_t>(self->options_.heartbeat_interval.count())) {
      self->send_frame(PingFrame{now});
      self->last_sent_ms_ = now;
    }
    self->arm_heartbeat();
  }

  AssasOutputOptions options_;
  FrameDecoder decoder_;
  std::deque<Inflight> inflight_;
  uint64_t inflight_bytes_ = 0;
  uint32_t window_batches_ = 1;
  uint64_t window_bytes_ = 1;
  uint64_t highest_sent_ = 0;
  uint64_t last_frame_ms_ = 0;
  uint64_t last_sent_ms_ = 0;
  uv_timer_t heartbeat_timer_{};
};

}  // namespace

Result<std::unique_ptr<Output>> make_assas_output(uv_loop_t* loop, AssasOutputOptions options) {
  std::vector<Endpoint> endpoints;
  std::shared_ptr<TlsContext> tls;
  options.use_tls = true;  // the native protocol has no plaintext mode
  options.socket = SocketKind::kStream;
  ASSAS_RETURN_IF_ERROR(prepare_session(options, endpoints, tls));
  return std::unique_ptr<Output>(
      new AssasOutput(loop, std::move(options), std::move(endpoints), std::move(tls)));
}

}  // namespace assas::transport
