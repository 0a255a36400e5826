#include "transport/http_listen.h"

#include <string>

#include <netinet/in.h>

#include "base/log.h"

namespace assas::transport {
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

Status parse_http_listen(const ConfigNode& node, bool& enabled, Endpoint& address) {
  if (Result<bool> on = node.as_bool(); on.is_ok()) {
    enabled = *on;
    return Status::ok();
  }
  Result<std::string> text = node.as_string();
  if (!text.is_ok()) {
    return text.status();
  }
  Result<Endpoint> endpoint = parse_endpoint(*text, true);
  if (!endpoint.is_ok()) {
    return node.error(endpoint.status().message());
  }
  Result<sockaddr_storage> resolved = listen_sockaddr(*endpoint);
  if (!resolved.is_ok()) {
    return node.error(resolved.status().message());
  }
  enabled = true;
  address = std::move(endpoint).value();
  return Status::ok();
}

Status listen_http(HttpServer& server, const Endpoint& address, std::string_view config_key,
                   std::string_view paths) {
  std::string text = address.to_string();
  Result<sockaddr_storage> sockaddr = listen_sockaddr(address);
  if (!sockaddr.is_ok()) {
    return sockaddr.status().with_context(std::string(config_key));
  }
  Status s = server.listen(reinterpret_cast<const struct sockaddr*>(&*sockaddr));
  if (!s.is_ok()) {
    return s.with_context(std::string(config_key) + ": cannot serve " + std::string(paths) +
                          " on " + text);
  }
  if (!is_loopback(*sockaddr)) {
    ASSAS_LOG(kWarn,
              "the metrics endpoint listens on a non-loopback address; it is unauthenticated, "
              "so anyone who can reach it can read the metrics",
              log::kv("address", text));
  }
  ASSAS_LOG(kInfo, "serving HTTP", log::kv("paths", std::string(paths)), log::kv("address", text),
            log::kv("port", server.bound_port()));
  return Status::ok();
}

}  // namespace assas::transport
