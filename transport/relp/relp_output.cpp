#include "transport/relp/relp_output.h"

#include <deque>
#include <optional>

#include "base/log.h"
#include "transport/relp/relp_frame.h"
#include "transport/syslog/syslog_batch_writer.h"

namespace assas::transport {
namespace {

constexpr std::string_view kSoftware = "assas," ASSAS_VERSION ",https://github.com/assas-agent";
// What a server may send us in one frame: answers and offers, never log data.
constexpr size_t kMaxResponseBytes = 64 << 10;
// Batches formatted ahead of the window, so that the next batch is ready when answers come.
constexpr size_t kMaxHeldBatches = 4;

class RelpOutput final : public SessionOutput {
 public:
  RelpOutput(uv_loop_t* loop, RelpOutputOptions options, std::vector<Endpoint> endpoints,
             std::shared_ptr<TlsContext> tls)
      : SessionOutput(loop, options, std::move(endpoints), std::move(tls)),
        options_(std::move(options)),
        writer_(options_.format, options_.max_message_bytes) {}

  bool can_send() const override {
    if (!ready() || draining()) {
      return false;
    }
    return held_.empty() || (held_.size() < kMaxHeldBatches && unsent_ < options_.window &&
                             held_bytes_ < options_.max_inflight_bytes);
  }

  void send(OutgoingBatch batch) override {
    if (!ready() || connection() == nullptr) {
      return;  // the shipper resends after the next on_connected
    }
    Held& held = held_.emplace_back();
    held.seq = batch.seq;
    writer_.write(batch, options_.name, held.batch);
    counters().messages_truncated = writer_.truncated_messages();
    if (resume_.seq == batch.seq) {
      // The receiver already answered for these messages in an earlier session.
      held.answered = held.sent = std::min(resume_.answered, held.batch.size());
    }
    held_bytes_ += held.batch.messages.size();
    unsent_ += held.batch.size() - held.sent;
    counters().inflight_bytes_peak = std::max(counters().inflight_bytes_peak, held_bytes_);
    release_answered();
    pump();
  }

  OutputStats stats() const override {
    OutputStats s = SessionOutput::stats();
    s.inflight_batches = held_.size();
    s.inflight_bytes = held_bytes_;
    return s;
  }

 private:
  // A batch as messages, and how far the session got with them.
  struct Held {
    uint64_t seq = 0;
    FormattedBatch batch;
    size_t sent = 0;      // messages sent (or answered in an earlier session)
    size_t answered = 0;  // messages the receiver answered 200 for
    bool done() const { return answered == batch.size(); }
  };

  void on_session_start(ClientConnection& connection) override {
    decoder_.emplace(kMaxResponseBytes);
    opening_ = true;
    next_txnr_ = 1;
    std::string frame;
    encode_relp_frame(next_txnr_, "open", relp_client_offers(kSoftware), frame);
    next_txnr_ = next_relp_txnr(next_txnr_);
    oldest_unanswered_txnr_ = next_txnr_;
    connection.send(frame);
  }

  void on_session_bytes(std::string_view bytes) override {
    bool could_send = can_send();
    decoder_->feed(bytes);
    while (connection() != nullptr) {
      Result<std::optional<RelpFrame>> frame = decoder_->next();
      if (!frame.is_ok()) {
        fail(frame.status().with_context("bad RELP frame from receiver"));
        return;
      }
      if (!frame->has_value()) {
        break;
      }
      on_frame(**frame);
    }
    if (!ready()) {
      return;  // failed, or failed back once the last answer came
    }
    // A receiver that answers each message as it writes it frees the window one message per
    // read; refilling at every answer would cost a TLS record and a write(2) per message. So the
    // window is refilled once a quarter of it is free, in one write, while the other three
    // quarters keep the receiver busy.
    if (unanswered_ + std::max<uint32_t>(options_.window / 4, 1) <= options_.window) {
      pump();
    }
    if (!could_send && can_send()) {
      listener().on_writable();
    }
  }

  void on_frame(const RelpFrame& frame) {
    if (frame.command == "serverclose") {
      fail(unavailable("receiver closed the RELP session (serverclose)"));
      return;
    }
    if (frame.command != "rsp") {
      fail(corruption("receiver sent the RELP command '" + std::string(frame.command) +
                      "'; a server only answers"));
      return;
    }
    if (frame.data.empty()) {
      fail(corruption("receiver answered txnr " + std::to_string(frame.txnr) + " with nothing"));
      return;
    }
    Result<RelpResponse> response = parse_relp_response(frame.data);
    if (!response.is_ok()) {
      fail(response.status().with_context("RELP rsp"));
      return;
    }
    if (opening_) {
      on_open_answered(frame.txnr, *response);
      return;
    }
    on_message_answered(frame.txnr, *response);
  }

  void on_open_answered(uint32_t txnr, const RelpResponse& response) {
    if (txnr != 1) {
      fail(corruption("receiver answered txnr " + std::to_string(txnr) + " before the open"));
      return;
    }
    if (response.code != 200) {
      fail(unavailable("receiver refused the RELP session: " + std::to_string(response.code) + " " +
                       std::string(response.text)));
      return;
    }
    Result<RelpOffers> offers = parse_relp_offers(response.data);
    if (!offers.is_ok()) {
      fail(offers.status().with_context("RELP offers of the receiver"));
      return;
    }
    if (std::find(offers->commands.begin(), offers->commands.end(), "syslog") ==
        offers->commands.end()) {
      fail(invalid_argument("receiver does not offer the RELP syslog command"));
      return;
    }
    opening_ = false;
    session_established(0);  // RELP says nothing of what the receiver holds: resend from acked
  }

  void on_message_answered(uint32_t txnr, const RelpResponse& response) {
    if (unanswered_ == 0 || txnr != oldest_unanswered_txnr_) {
      fail(corruption("receiver answered txnr " + std::to_string(txnr) + " but " +
                      (unanswered_ == 0
                           ? std::string("nothing was unanswered")
                           : "txnr " + std::to_string(oldest_unanswered_txnr_) + " was next")));
      return;
    }
    if (response.code != 200) {
      // Sent again after the reconnect: a refusal is never taken as delivery.
      fail(unavailable("receiver refused a message: " + std::to_string(response.code) + " " +
                       std::string(response.text)));
      return;
    }
    --unanswered_;
    oldest_unanswered_txnr_ = next_relp_txnr(oldest_unanswered_txnr_);
    Held& front = held_.front();  // answers come in order, and done batches leave at once
    ++front.answered;
    resume_ = {front.seq, front.answered};
    progress();
    release_answered();
  }

  // Hands every batch whose messages are all answered to the listener.
  void release_answered() {
    uint64_t upto = 0;
    while (!held_.empty() && held_.front().done()) {
      upto = held_.front().seq;
      held_bytes_ -= held_.front().batch.messages.size();
      held_.pop_front();
    }
    if (upto != 0) {
      listener().on_acked(upto);
      progress();  // may fail back (failback waits for exactly this)
    }
  }

  // Sends held messages while the window has room.
  void pump() {
    if (!ready() || connection() == nullptr) {
      return;
    }
    frames_.clear();
    for (Held& held : held_) {
      while (held.sent < held.batch.size() && unanswered_ < options_.window) {
        if (next_txnr_ == kRelpMaxTxnr) {
          break;  // librelp cannot count past it: the session is reopened once all is answered
        }
        encode_relp_frame(next_txnr_, "syslog", held.batch.message(held.sent), frames_);
        next_txnr_ = next_relp_txnr(next_txnr_);
        ++held.sent;
        --unsent_;
        ++unanswered_;
      }
    }
    if (!frames_.empty()) {
      connection()->send(frames_);
    }
    if (next_txnr_ == kRelpMaxTxnr && unanswered_ == 0 && unsent_ > 0) {
      fail(unavailable("reopening the RELP session before its transaction numbers run out"));
    }
  }

  void on_session_end() override {
    held_.clear();
    held_bytes_ = 0;
    unsent_ = 0;
    unanswered_ = 0;
    opening_ = false;
  }

  bool in_flight() const override { return !held_.empty(); }

  // RELP's goodbye, so that the receiver logs an orderly end, not a broken session. Its answer is
  // not waited for: what is unanswered is sent again next time either way.
  void on_session_closing(ClientConnection& connection) override {
    if (opening_ || next_txnr_ == kRelpMaxTxnr) {
      return;
    }
    std::string frame;
    encode_relp_frame(next_txnr_, "close", "", frame);
    connection.send(frame);
  }

  Status explain_failure(const Status& why) const override {
    if (decoder_ && decoder_->mid_frame()) {
      return {why.code(), why.message() + " in the middle of a RELP frame"};
    }
    return why;
  }

  RelpOutputOptions options_;
  SyslogBatchWriter writer_;
  std::optional<RelpFrameDecoder> decoder_;  // one per session
  bool opening_ = false;
  uint32_t next_txnr_ = 1;
  uint32_t oldest_unanswered_txnr_ = 1;
  uint32_t unanswered_ = 0;
  size_t unsent_ = 0;
  std::deque<Held> held_;
  uint64_t held_bytes_ = 0;
  std::string frames_;
  // How far the answers went into the oldest unfinished batch, kept across sessions.
  struct {
    uint64_t seq = 0;
    size_t answered = 0;
  } resume_;
};

}  // namespace

Result<std::unique_ptr<Output>> make_relp_output(uv_loop_t* loop, RelpOutputOptions options) {
  ASSAS_RETURN_IF_ERROR(validate_syslog_format(options.format));
  if (options.window == 0) {
    return invalid_argument("window must be at least 1");
  }
  if (options.max_message_bytes > kRelpDefaultMaxDataBytes) {
    return invalid_argument("max_message_size: librelp refuses RELP frames over 128 KiB");
  }
  options.socket = SocketKind::kStream;
  std::vector<Endpoint> endpoints;
  std::shared_ptr<TlsContext> tls;
  ASSAS_RETURN_IF_ERROR(prepare_session(options, endpoints, tls));
  return std::unique_ptr<Output>(
      new RelpOutput(loop, std::move(options), std::move(endpoints), std::move(tls)));
}

}  // namespace assas::transport
