#include "ingest/ingest_service.h"

#include "ingest/agent_session.h"

namespace assas::ingest {

IngestService::IngestService(uv_loop_t* loop, ServiceOptions options)
    : loop_(loop), options_(std::move(options)) {}

std::unique_ptr<transport::ConnectionHandler> IngestService::on_connection(
    transport::PeerConnection& connection) {
  return std::make_unique<AgentSession>(*this, connection);
}

AgentChannel& IngestService::channel_for(const std::string& identity) {
  auto it = channels_.find(identity);
  if (it == channels_.end()) {
    it = channels_
             .emplace(identity, std::make_unique<AgentChannel>(loop_, options_.data_dir, identity,
                                                                options_.limits))
             .first;
  }
  return *it->second;
}

bool IngestService::idle() const {
  for (const auto& [identity, channel] : channels_) {
    if (channel->busy() || channel->pending_batches() > 0) {
      return false;
    }
  }
  return true;
}

}  // namespace assas::ingest
