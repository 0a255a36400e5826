#include "agent/metrics_endpoint.h"

#include <netinet/in.h>

#include "base/log.h"

namespace assas::agent {
namespace {

bool is_loopback(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
  }
  if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    if (IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) {
      return true;
    }
    return IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr) && v6->sin6_addr.s6_addr[12] == 127;
  }
  return false;
}

}  // namespace

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
  std::string address = options_.listen.to_string();
  Result<sockaddr_storage> sockaddr = transport::listen_sockaddr(options_.listen);
  if (!sockaddr.is_ok()) {
    return sockaddr.status().with_context("metrics.listen");
  }
  Status s = server_.listen(reinterpret_cast<const struct sockaddr*>(&*sockaddr));
  if (!s.is_ok()) {
    return s.with_context("metrics.listen: cannot serve /metrics on " + address);
  }
  if (!is_loopback(*sockaddr)) {
    ASSAS_LOG(kWarn,
              "the metrics endpoint listens on a non-loopback address; it is unauthenticated, "
              "so anyone who can reach it can read the metrics",
              log::kv("address", address));
  }
  ASSAS_LOG(kInfo, "serving /metrics and /health", log::kv("address", address),
            log::kv("port", server_.bound_port()));
  return Status::ok();
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
