#include "ingest/agent_session.h"

#include "base/log.h"
#include "ingest/ingest_service.h"

namespace assas::ingest {

using transport::PeerConnection;

AgentSession::AgentSession(IngestService& service, PeerConnection& connection)
    : service_(service), connection_(connection) {}

AgentSession::~AgentSession() {
  detach();
}

void AgentSession::detach() {
  if (channel_ != nullptr) {
    channel_->detach(this);
    channel_ = nullptr;
  }
}

void AgentSession::on_frame(const transport::Frame& frame) {
  if (!got_hello_) {
    if (const auto* hello = std::get_if<transport::HelloFrame>(&frame)) {
      on_hello(*hello);
    } else {
      connection_.close(invalid_argument("the first frame must be a hello"));
    }
    return;
  }
  if (const auto* batch = std::get_if<transport::BatchFrame>(&frame)) {
    on_batch(*batch);
  } else if (const auto* ping = std::get_if<transport::PingFrame>(&frame)) {
    connection_.send(transport::PongFrame{ping->nonce});
  } else if (std::holds_alternative<transport::PongFrame>(frame)) {
    // Its arrival is what counts: the server's idle timer was re-armed.
  } else if (const auto* error = std::get_if<transport::ErrorFrame>(&frame)) {
    ASSAS_LOG(kWarn, "agent reported an error and closes",
              log::kv("agent", connection_.peer_identity()),
              log::kv("peer", connection_.peer_address()), log::kv("error", error->message));
    connection_.close(Status::ok());
  } else if (std::holds_alternative<transport::HelloFrame>(frame)) {
    connection_.close(invalid_argument("a second hello on one connection"));
  } else {
    connection_.close(invalid_argument("an agent may not send this frame type"));
  }
}

void AgentSession::on_hello(const transport::HelloFrame& hello) {
  got_hello_ = true;
  if (hello.version != transport::kProtocolVersion) {
    connection_.close(invalid_argument("protocol version " + std::to_string(hello.version) +
                                       " is not supported; this receiver speaks " +
                                       std::to_string(transport::kProtocolVersion)));
    return;
  }
  // The certificate decides who this is and so which directory it writes to. Checked before
  // anything touches the filesystem; the server logs the reason with the peer's address.
  const std::string& identity = connection_.peer_identity();
  if (!is_safe_identity(identity)) {
    connection_.close(permission_denied(
        "certificate name '" + identity +
        "' cannot be used as an agent identity: it must match [A-Za-z0-9_.-]{1,128}, not start "
        "with '.' and not contain '..'; issue the agent a certificate with such a name"));
    return;
  }
  if (hello.agent_id != identity) {
    // The claim in the hello is only worth a line in the log.
    ASSAS_LOG(kWarn, "agent claims another id than its certificate; the certificate wins",
              log::kv("certificate", identity), log::kv("claimed", hello.agent_id),
              log::kv("peer", connection_.peer_address()));
  }
  Result<std::shared_ptr<const AgentKey>> signer =
      AgentKey::from_certificate(connection_.peer_certificate());
  if (signer.is_ok()) {
    signer_ = std::move(signer).value();
  } else {
    ASSAS_LOG(kWarn,
              "cannot read the agent's certificate; its chain signatures cannot be checked and "
              "are recorded as break-signature",
              log::kv("agent", identity), log::kv("error", signer.status().to_string()));
  }
  ASSAS_LOG(kInfo, "agent connected", log::kv("agent", identity),
            log::kv("peer", connection_.peer_address()), log::kv("host", hello.host),
            log::kv("stream", hello.stream_id));
  channel_ = &service_.channel_for(identity);
  stream_id_ = hello.stream_id;
  channel_->attach(this, hello.stream_id);
}

void AgentSession::on_hello_answer(uint64_t stored_upto) {
  ready_ = true;
  const ServiceOptions& o = service_.options();
  connection_.send(transport::HelloOkFrame{transport::kProtocolVersion, stored_upto,
                                           o.window_batches, o.window_bytes, o.max_frame_bytes});
}

void AgentSession::on_batch(const transport::BatchFrame& batch) {
  if (!ready_) {
    connection_.close(invalid_argument("a batch before the hello was answered"));
    return;
  }
  const ServiceOptions& o = service_.options();
  if (batch.raw_size > o.limits.max_batch_bytes) {
    connection_.close(resource_exhausted(
        "batch " + std::to_string(batch.seq) + " declares " + std::to_string(batch.raw_size) +
        " bytes uncompressed, over this receiver's max_batch_bytes of " +
        std::to_string(o.limits.max_batch_bytes)));
    return;
  }
  // The payload and signature live only during this call; the store job needs its own copies.
  ReceivedBatch received;
  received.seq = batch.seq;
  received.event_count = batch.event_count;
  received.raw_size = batch.raw_size;
  received.codec = batch.codec;
  received.payload = std::string(batch.payload);
  received.chain.flags = batch.chain_flags;
  received.chain.prev_seq = batch.prev_seq;
  received.chain.prev_link = batch.prev_link;
  received.chain.signature = std::string(batch.signature);
  received.signer = signer_;
  channel_->enqueue(stream_id_, std::move(received));
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

void AgentSession::on_replaced() {
  channel_ = nullptr;  // the channel belongs to the new connection now
  connection_.close(unavailable("replaced by a newer connection with the same certificate"));
}

// Credits are the agent's side of flow control; this is ours: a connection whose agent has a full
// window waiting for the disk stops being read, so one agent that ignores its credits cannot pile
// up memory here (and others are unaffected).
void AgentSession::update_flow() {
  const ServiceOptions& o = service_.options();
  bool full = channel_ != nullptr && (channel_->pending_batches() >= o.window_batches ||
                                      channel_->pending_bytes() >= o.window_bytes);
  if (full && !paused_) {
    paused_ = true;
    connection_.pause_reading();
  } else if (!full && paused_) {
    paused_ = false;
    connection_.resume_reading();
  }
}

void AgentSession::on_closed(const Status& why) {
  detach();
  ASSAS_LOG(kInfo, "agent disconnected", log::kv("agent", connection_.peer_identity()),
            log::kv("peer", connection_.peer_address()),
            log::kv("reason", why.is_ok() ? std::string("closed") : why.to_string()));
}

}  // namespace assas::ingest
