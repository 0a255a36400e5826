#include "ingest/ingest_metrics.h"

#include <netinet/in.h>

#include "base/log.h"

namespace assas::ingest {
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

IngestMetricsEndpoint::IngestMetricsEndpoint(uv_loop_t* loop, IngestMetricsOptions options,
                                             std::function<std::string()> metrics)
    : options_(std::move(options)),
      metrics_(std::move(metrics)),
      server_(loop,
              [this](std::string_view /*method*/, std::string_view path) { return handle(path); }) {
}

Status IngestMetricsEndpoint::start() {
  std::string address = options_.listen.to_string();
  Result<sockaddr_storage> sockaddr = transport::listen_sockaddr(options_.listen);
  if (!sockaddr.is_ok()) {
    return sockaddr.status().with_context("ingest.metrics.listen");
  }
  Status s = server_.listen(reinterpret_cast<const struct sockaddr*>(&*sockaddr));
  if (!s.is_ok()) {
    return s.with_context("ingest.metrics.listen: cannot serve /metrics on " + address);
  }
  if (!is_loopback(*sockaddr)) {
    ASSAS_LOG(kWarn,
              "the metrics endpoint listens on a non-loopback address; it is unauthenticated, "
              "so anyone who can reach it can read the metrics",
              log::kv("address", address));
  }
  ASSAS_LOG(kInfo, "serving /metrics", log::kv("address", address),
            log::kv("port", server_.bound_port()));
  return Status::ok();
}

HttpResponse IngestMetricsEndpoint::handle(std::string_view path) const {
  if (path == "/metrics") {
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", metrics_()};
  }
  return HttpResponse{404, "text/plain; charset=utf-8", "not found; try /metrics\n"};
}

}  // namespace assas::ingest
