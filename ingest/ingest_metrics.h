#pragma once

// assas-ingest's HTTP endpoint for its metrics (ingest.metrics.listen, off unless configured):
// GET /metrics answers the Prometheus text of ingest/ingest_stats.h, any other path 404. It is
// unauthenticated, read-only and bounded (base/http_server.h); on a non-loopback address it says
// so in the log at start.
//
// Contract: loop thread only; loop outlives it. The metrics callback is called only from
// requests, on the loop, never after close(). close() before destroying it (also when start()
// failed or was never called).

#include <functional>
#include <string>

#include <uv.h>

#include "base/http_server.h"
#include "base/status.h"
#include "transport/endpoint.h"

namespace assas::ingest {

struct IngestMetricsOptions {
  bool enabled = false;  // ingest.metrics.listen is set
  transport::Endpoint listen{"127.0.0.1", 9465};
};

class IngestMetricsEndpoint {
 public:
  IngestMetricsEndpoint(uv_loop_t* loop, IngestMetricsOptions options,
                        std::function<std::string()> metrics);
  IngestMetricsEndpoint(const IngestMetricsEndpoint&) = delete;
  IngestMetricsEndpoint& operator=(const IngestMetricsEndpoint&) = delete;

  // Binds options.listen; the error names ingest.metrics.listen and the address.
  Status start();
  int bound_port() const { return server_.bound_port(); }
  void close(std::function<void()> on_closed) { server_.close(std::move(on_closed)); }

 private:
  HttpResponse handle(std::string_view path) const;

  IngestMetricsOptions options_;
  std::function<std::string()> metrics_;
  HttpServer server_;
};

}  // namespace assas::ingest
