#pragma once

// assas-ingest's application logic on top of transport's TlsServer: one AgentSession per
// connection, one AgentChannel (and so one AgentStore) per agent identity.
//
// The session protocol: the first frame must be a hello; the identity is the certificate's, never
// the hello's (a mismatch is logged); a second connection with the same identity replaces the
// first; the hello answer carries what the store already holds for the agent's stream and the
// credit window; batches are queued to the channel, and reading pauses while the agent has a full
// window queued; acks follow each durable write. Any error closes only that connection, with an
// ErrorFrame and a log line naming the identity and address.
//
// Loop thread only. close() waits for jobs on the thread pool before calling back.

#include <functional>
#include <map>
#include <memory>
#include <string>

#include <uv.h>

#include "ingest/agent_channel.h"
#include "ingest/ingest_stats.h"
#include "transport/server/tls_server.h"

namespace assas::ingest {

struct ServiceOptions {
  std::string data_dir;
  StoreLimits limits;
  uint32_t window_batches = 16;
  uint64_t window_bytes = 32ULL << 20;
  uint32_t max_frame_bytes = 16U << 20;
};

class IngestService final : public transport::ConnectionAcceptor {
 public:
  IngestService(uv_loop_t* loop, ServiceOptions options);
  IngestService(const IngestService&) = delete;
  IngestService& operator=(const IngestService&) = delete;

  // transport::ConnectionAcceptor
  std::unique_ptr<transport::ConnectionHandler> on_connection(
      transport::PeerConnection& connection) override;

  // The channel of an identity, made on first use. identity must satisfy is_safe_identity().
  AgentChannel& channel_for(const std::string& identity);
  const ServiceOptions& options() const { return options_; }
  // What every store committed since the start (loop thread only).
  const StoreCounts& totals() const { return totals_; }
  // The metrics as Prometheus text.
  std::string metrics_text() const { return render_ingest_metrics(totals_); }
  // True when no store job is running or queued.
  bool idle() const;
  // Calls done once idle() (at once if it already is): for a clean stop, after the server has
  // closed every connection, so that batches already received become durable before exit.
  void when_idle(std::function<void()> done);

 private:
  void on_channel_idle();

  uv_loop_t* loop_;
  ServiceOptions options_;
  StoreCounts totals_;  // declared before channels_, which refer to it
  // Kept for the life of the service: a channel is small, and its store must outlive its jobs.
  std::map<std::string, std::unique_ptr<AgentChannel>> channels_;
  std::function<void()> on_idle_;
};

}  // namespace assas::ingest
