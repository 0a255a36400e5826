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
                                                               options_.limits, totals_,
                                                               [this] { on_channel_idle(); }))
             .first;
  }
  return *it->second;
}

bool IngestService::idle() const {
  for (const auto& [identity, channel] : channels_) {
    if (!channel->idle()) {
      return false;
    }
  }
  return true;
}

void IngestService::when_idle(std::function<void()> done) {
  on_idle_ = std::move(done);
  on_channel_idle();
}

void IngestService::on_channel_idle() {
  if (on_idle_ && idle()) {
    auto done = std::move(on_idle_);
    on_idle_ = nullptr;
    done();
  }
}

}  // namespace assas::ingest
