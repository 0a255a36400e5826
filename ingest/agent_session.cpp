#include "ingest/agent_session.h"

#include "base/log.h"
#include "ingest/ingest_service.h"

namespace assas::ingest {

using transport::PeerConnection;

AgentSession::AgentSession(IngestService& service, PeerConnection& connection)
    : service_(service), connection_(connection) {}

AgentSession::~AgentSession() {
  if (channel_ != nullptr) {
    channel_->detach(this);
  }
}

void AgentSession::on_frame(const transport::Frame& frame) {
  if (const auto* hello = std::get_if<transport::HelloFrame>(&frame)) {
    on_hello(*hello);
  } else if (const auto* batch = std::get_if<transport::BatchFrame>(&frame)) {
    on_batch(*batch);
  } else if (const auto* ping = std::get_if<transport::PingFrame>(&frame)) {
    connection_.send(transport::PongFrame{ping->nonce});
  } else if (std::holds_alternative<transport::PongFrame>(frame)) {
    // liveness only
  } else if (const auto* error = std::get_if<transport::ErrorFrame>(&frame)) {
    ASSAS_LOG(kWarn, "agent reported an error", log::kv("agent", connection_.peer_identity()),
              log::kv("error", error->message));
    connection_.close(Status::ok());
  } else {
    connection_.close(corruption("unexpected frame from an agent"));
  }
}

void AgentSession::on_hello(const transport::HelloFrame& hello) {
  if (channel_ != nullptr) {
    connection_.close(corruption("second hello on one connection"));
    return;
  }
  if (hello.version != transport::kProtocolVersion) {
    connection_.close(invalid_argument("protocol version " + std::to_string(hello.version) +
                                       " is not supported; this receiver speaks " +
                                       std::to_string(transport::kProtocolVersion)));
    return;
  }
  const std::string& identity = connection_.peer_identity();
  if (!is_safe_identity(identity)) {
    connection_.close(permission_denied(
        "certificate name '" + identity +
        "' cannot be used as an agent identity; it must match [A-Za-z0-9_.-]{1,128} and not "
        "start with '.'"));
    return;
  }
  if (hello.agent_id != identity) {
    // The certificate decides who this is; the claim is only worth a line in the log.
    ASSAS_LOG(kWarn, "agent claims another id than its certificate; the certificate wins",
              log::kv("certificate", identity), log::kv("claimed", hello.agent_id),
              log::kv("peer", connection_.peer_address()));
  }
  channel_ = &service_.channel_for(identity);
  channel_->attach(this, hello.stream_id, hello.host);
  channel_->request_hello_answer();
  ASSAS_LOG(kInfo, "agent connected", log::kv("agent", identity),
            log::kv("peer", connection_.peer_address()), log::kv("stream", hello.stream_id));
}

void AgentSession::on_hello_answer(uint64_t stored_upto) {
  ready_ = true;
  last_seq_ = stored_upto;
  const ServiceOptions& o = service_.options();
  connection_.send(transport::HelloOkFrame{transport::kProtocolVersion, stored_upto,
                                           o.window_batches, o.window_bytes, o.max_frame_bytes});
}

void AgentSession::on_batch(const transport::BatchFrame& batch) {
  if (!ready_) {
    connection_.close(corruption("batch before the hello was answered"));
    return;
  }
  const ServiceOptions& o = service_.options();
  if (batch.raw_size > o.limits.max_batch_bytes) {
    connection_.close(resource_exhausted("batch " + std::to_string(batch.seq) + " declares " +
                                         std::to_string(batch.raw_size) +
                                         " bytes uncompressed, over the limit of " +
                                         std::to_string(o.limits.max_batch_bytes)));
    return;
  }
  if (batch.seq <= last_seq_) {
    // Resent after a reconnect, or a replay: the store drops it, and it is acknowledged again.
  }
  last_seq_ = std::max(last_seq_, batch.seq);
  channel_->enqueue(ReceivedBatch{batch.seq, batch.event_count, batch.raw_size, batch.codec,
                                  std::string(batch.payload)});
  update_flow();
}

void AgentSession::on_stored(uint64_t stored_upto) {
  if (ready_) {
    const ServiceOptions& o = service_.options();
    connection_.send(transport::AckFrame{stored_upto, o.window_batches, o.window_bytes});
  }
  update_flow();
}

void AgentSession::on_store_failed(const Status& why) {
  connection_.close(why);
}

// Credits are the agent's side of flow control; this is ours: a session that has a full window
// waiting for the disk stops being read, so one fast agent cannot pile up memory here.
void AgentSession::update_flow() {
  bool full = channel_ != nullptr && channel_->pending_batches() >= service_.options().window_batches;
  if (full && !paused_) {
    paused_ = true;
    connection_.pause_reading();
  } else if (!full && paused_) {
    paused_ = false;
    connection_.resume_reading();
  }
}

void AgentSession::on_closed(const Status& why) {
  if (channel_ != nullptr) {
    channel_->detach(this);
    channel_ = nullptr;
  }
  ASSAS_LOG(kInfo, "agent disconnected", log::kv("agent", connection_.peer_identity()),
            log::kv("peer", connection_.peer_address()),
            log::kv("reason", why.is_ok() ? std::string("closed") : why.to_string()));
}

}  // namespace assas::ingest
