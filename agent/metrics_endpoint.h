#pragma once

// The agent's HTTP endpoint (metrics.listen, off unless configured): GET /metrics answers what the
// metrics file holds, GET /health whether a person should look (agent/health.h), 200 or 503. It
// is unauthenticated, read-only and bounded (base/http_server.h); on a non-loopback address it
// says so in the log at start.
//
// Contract: loop thread only; loop outlives it. The callbacks are called only from requests, on
// the loop, never after close(). close() before destroying it.

#include <chrono>
#include <functional>
#include <string>

#include <uv.h>

#include "agent/health.h"
#include "base/http_server.h"
#include "base/status.h"
#include "transport/endpoint.h"

namespace assas::agent {

struct MetricsServerOptions {
  bool enabled = false;  // metrics.listen is set
  transport::Endpoint listen{"127.0.0.1", 9464};
  std::chrono::milliseconds output_down_after{60000};  // metrics.health.output_down_after
};

class MetricsEndpoint {
 public:
  MetricsEndpoint(uv_loop_t* loop, MetricsServerOptions options,
                  std::function<std::string()> metrics, std::function<HealthInputs()> health);
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  // Binds options.listen; the error names metrics.listen and the address.
  Status start();
  int bound_port() const { return server_.bound_port(); }
  void close(std::function<void()> on_closed) { server_.close(std::move(on_closed)); }

 private:
  HttpResponse handle(std::string_view path) const;

  MetricsServerOptions options_;
  std::function<std::string()> metrics_;
  std::function<HealthInputs()> health_;
  HttpServer server_;
};

}  // namespace assas::agent
