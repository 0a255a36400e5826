#pragma once

#include <string>

#include "ingest/agent_channel.h"
#include "transport/server/tls_server.h"

namespace assas::ingest {

class IngestService;

// One connection of one agent. See ingest_service.h for the protocol. Loop thread only; destroyed
// by the server right after on_closed.
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

  void on_hello(const transport::HelloFrame& hello);
  void on_batch(const transport::BatchFrame& batch);
  void update_flow();

  IngestService& service_;
  transport::PeerConnection& connection_;
  AgentChannel* channel_ = nullptr;
  bool ready_ = false;    // the hello answer was sent
  bool paused_ = false;
  uint64_t last_seq_ = 0;  // highest seq received in this session
};

}  // namespace assas::ingest
