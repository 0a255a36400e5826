#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "ingest/agent_channel.h"
#include "ingest/agent_key.h"
#include "transport/server/tls_server.h"

namespace assas::ingest {

class IngestService;

// One connection of one agent; the protocol it speaks is described in ingest_service.h and
// docs/ingest.md. Loop thread only. Created by IngestService::on_connection and destroyed by the
// server right after on_closed(); it detaches from its channel there, so the channel never calls
// a session that is gone.
class AgentSession final : public transport::ConnectionHandler, private AgentChannel::Listener {
 public:
  AgentSession(IngestService& service, transport::PeerConnection& connection);
  ~AgentSession() override;
  AgentSession(const AgentSession&) = delete;
  AgentSession& operator=(const AgentSession&) = delete;

  // transport::ConnectionHandler
  void on_frame(const transport::Frame& frame) override;
  void on_closed(const Status& why) override;

 private:
  // AgentChannel::Listener
  void on_hello_answer(uint64_t stored_upto) override;
  void on_stored(uint64_t stored_upto) override;
  void on_store_failed(const Status& why) override;
  void on_replaced() override;

  void on_hello(const transport::HelloFrame& hello);
  void on_batch(const transport::BatchFrame& batch);
  void update_flow();
  void detach();

  IngestService& service_;
  transport::PeerConnection& connection_;
  AgentChannel* channel_ = nullptr;  // set by the hello; owned by the service
  uint64_t stream_id_ = 0;           // from the hello
  // The connection's certificate, read at the hello; every batch shares it, so that it outlives
  // the connection for as long as a store job still needs it to check signatures.
  std::shared_ptr<const AgentKey> signer_;
  bool got_hello_ = false;
  bool ready_ = false;   // the hello answer was sent
  bool paused_ = false;  // we hold one pause_reading() on the connection
};

}  // namespace assas::ingest
