#include "ingest/ingest_metrics.h"

#include "transport/http_listen.h"

namespace assas::ingest {
IngestMetricsEndpoint::IngestMetricsEndpoint(uv_loop_t* loop, IngestMetricsOptions options,
                                             std::function<std::string()> metrics)
    : options_(std::move(options)),
      metrics_(std::move(metrics)),
      server_(loop,
              [this](std::string_view /*method*/, std::string_view path) { return handle(path); }) {
}

Status IngestMetricsEndpoint::start() {
  return transport::listen_http(server_, options_.listen, "ingest.metrics.listen", "/metrics");
}

HttpResponse IngestMetricsEndpoint::handle(std::string_view path) const {
  if (path == "/metrics") {
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", metrics_()};
  }
  return HttpResponse{404, "text/plain; charset=utf-8", "not found; try /metrics\n"};
}

}  // namespace assas::ingest
