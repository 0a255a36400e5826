#include "agent/metrics_endpoint.h"

#include "transport/http_listen.h"

namespace assas::agent {
MetricsEndpoint::MetricsEndpoint(uv_loop_t* loop, MetricsServerOptions options,
                                 std::function<std::string()> metrics,
                                 std::function<HealthInputs()> health)
    : options_(std::move(options)),
      metrics_(std::move(metrics)),
      health_(std::move(health)),
      server_(loop,
              [this](std::string_view /*method*/, std::string_view path) { return handle(path); }) {
}

Status MetricsEndpoint::start() {
  return transport::listen_http(server_, options_.listen, "metrics.listen", "/metrics and /health");
}

HttpResponse MetricsEndpoint::handle(std::string_view path) const {
  if (path == "/metrics") {
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", metrics_()};
  }
  if (path == "/health") {
    HealthInputs inputs = health_();
    HealthReport report = evaluate_health(inputs, options_.output_down_after);
    return HttpResponse{report.healthy ? 200 : 503, "application/json",
                        health_json(inputs, report)};
  }
  return HttpResponse{404, "text/plain; charset=utf-8", "not found; try /metrics or /health\n"};
}

}  // namespace assas::agent
