#include "transport/syslog/syslog_output.h"

#include <deque>

#include "base/log.h"
#include "transport/syslog/syslog_batch_writer.h"

namespace assas::transport {
namespace {

// How often delivery is looked at while something is unacknowledged. An ioctl per look; the
// window (max_inflight_bytes) divided by this bounds the throughput far above any receiver's.
constexpr uint64_t kDeliveryPollMs = 10;

class SyslogOutput final : public SessionOutput {
 public:
  SyslogOutput(uv_loop_t* loop, SyslogOutputOptions options, std::vector<Endpoint> endpoints,
               std::shared_ptr<TlsContext> tls)
      : SessionOutput(loop, options, std::move(endpoints), std::move(tls)),
        options_(std::move(options)),
        writer_(options_.format, options_.max_message_bytes) {
    ASSAS_CHECK(uv_timer_init(loop, &poll_timer_) == 0, "timer init cannot fail");
    poll_timer_.data = this;
  }

  bool can_send() const override {
    if (!ready() || draining()) {
      return false;
    }
    return inflight_.empty() || unacknowledged_bytes() < options_.max_inflight_bytes;
  }

  void send(OutgoingBatch batch) override {
    if (!ready() || connection() == nullptr) {
      return;  // the shipper resends after the next on_connected
    }
    writer_.write(batch, options_.name, formatted_);
    counters().messages_truncated = writer_.truncated_messages();
    if (options_.socket == SocketKind::kDatagram) {
      // One datagram each; the connection is gone (null) once one failed.
      for (size_t i = 0; i < formatted_.size() && connection() != nullptr; ++i) {
        connection()->send(formatted_.message(i));
      }
    } else {
      frames_.clear();
      for (size_t i = 0; i < formatted_.size(); ++i) {
        append_syslog_frame(options_.framing, formatted_.message(i), frames_);
      }
      if (!frames_.empty()) {
        connection()->send(frames_);
      }
    }
    if (connection() == nullptr) {
      return;  // the send failed and the session is gone
    }
    uint64_t end = connection()->bytes_queued();
    inflight_.push_back(Inflight{batch.seq, end});
    counters().inflight_bytes_peak =
        std::max(counters().inflight_bytes_peak, unacknowledged_bytes());
    if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&poll_timer_))) {
      int rc =
          uv_timer_start(&poll_timer_, &SyslogOutput::on_poll, kDeliveryPollMs, kDeliveryPollMs);
      ASSAS_CHECK(rc == 0, "timer start cannot fail");
    }
  }

  OutputStats stats() const override {
    OutputStats s = SessionOutput::stats();
    s.inflight_batches = inflight_.size();
    s.inflight_bytes = unacknowledged_bytes();
    return s;
  }

 private:
  struct Inflight {
    uint64_t seq;
    uint64_t end;  // the connection's byte offset right after the batch
  };

  uint64_t unacknowledged_bytes() const {
    if (inflight_.empty() || connection() == nullptr) {
      return 0;
    }
    uint64_t delivered = connection()->bytes_delivered();
    uint64_t end = inflight_.back().end;
    return end > delivered ? end - delivered : 0;
  }

  static void on_poll(uv_timer_t* timer) noexcept {
    static_cast<SyslogOutput*>(timer->data)->collect_delivered();
  }

  void collect_delivered() {
    if (!ready() || connection() == nullptr || inflight_.empty()) {
      uv_timer_stop(&poll_timer_);
      return;
    }
    bool could_send = can_send();
    uint64_t delivered = connection()->bytes_delivered();
    uint64_t upto = 0;
    while (!inflight_.empty() && inflight_.front().end <= delivered) {
      upto = inflight_.front().seq;
      inflight_.pop_front();
    }
    if (upto == 0) {
      return;
    }
    if (inflight_.empty()) {
      uv_timer_stop(&poll_timer_);
    }
    listener().on_acked(upto);
    progress();  // may fail back (failback waits for exactly this)
    if (ready() && !could_send && can_send()) {
      listener().on_writable();
    }
  }

  void on_session_start(ClientConnection& /*connection*/) override {
    session_established(0);  // syslog has no opening, and no receiver says what it holds
  }

  void on_session_bytes(std::string_view /*bytes*/) override {
    // A syslog receiver sends nothing; whatever it does send means nothing to us.
  }

  void on_session_end() override {
    uv_timer_stop(&poll_timer_);
    inflight_.clear();
  }

  bool in_flight() const override { return !inflight_.empty(); }

  void close_handles(HandleCloser& closer) override {
    uv_timer_stop(&poll_timer_);
    closer.close(&poll_timer_);
  }

  SyslogOutputOptions options_;
  SyslogBatchWriter writer_;
  FormattedBatch formatted_;  // reused for each batch
  std::string frames_;        // one batch's framed messages, sent in one write
  std::deque<Inflight> inflight_;
  uv_timer_t poll_timer_{};
};

}  // namespace

void append_syslog_frame(SyslogFraming framing, std::string_view message, std::string& out) {
  if (framing == SyslogFraming::kOctetCounting) {
    out += std::to_string(message.size());
    out += ' ';
    out += message;
    return;
  }
  for (char c : message) {
    if (c == '\n') {
      out += "#012";  // rsyslog's escape, what SOC engineers already read
    } else {
      out += c;
    }
  }
  out += '\n';
}

Result<std::unique_ptr<Output>> make_syslog_output(uv_loop_t* loop, SyslogOutputOptions options) {
  ASSAS_RETURN_IF_ERROR(validate_syslog_format(options.format));
  if (options.socket == SocketKind::kDatagram) {
    options.use_tls = false;
  }
  std::vector<Endpoint> endpoints;
  std::shared_ptr<TlsContext> tls;
  ASSAS_RETURN_IF_ERROR(prepare_session(options, endpoints, tls));
  return std::unique_ptr<Output>(
      new SyslogOutput(loop, std::move(options), std::move(endpoints), std::move(tls)));
}

}  // namespace assas::transport
