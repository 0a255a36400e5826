#include "transport/endpoint.h"

#include <charconv>

#include <netinet/in.h>

#include <uv.h>

namespace assas::transport {

std::string Endpoint::to_string() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<Endpoint> parse_endpoint(std::string_view text, bool allow_port_zero) {
  auto bad = [&] {
    return invalid_argument("'" + std::string(text) +
                            "' is not an endpoint; write host:port or [ipv6]:port, e.g. "
                            "soc1.example.ma:6514");
  };
  Endpoint e;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad();
    }
    e.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      return bad();
    }
    e.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), e.port);
  if (e.host.empty() || ec != std::errc() || ptr != port.data() + port.size() ||
      e.port < (allow_port_zero ? 0 : 1) || e.port > 65535) {
    return bad();
  }
  return e;
}

Result<sockaddr_storage> listen_sockaddr(const Endpoint& address) {
  sockaddr_storage addr{};
  int rc =
      address.host.find(':') != std::string::npos
          ? uv_ip6_addr(address.host.c_str(), address.port, reinterpret_cast<sockaddr_in6*>(&addr))
          : uv_ip4_addr(address.host.c_str(), address.port, reinterpret_cast<sockaddr_in*>(&addr));
  if (rc != 0) {
    return invalid_argument(
        "listen address '" + address.to_string() + "' is not an IP address; write e.g. 0.0.0.0:" +
        std::to_string(address.port) + " or [::]:" + std::to_string(address.port));
  }
  return addr;
}

std::string ip_text(const sockaddr* address) {
  char host[64] = {};
  if (address->sa_family == AF_INET6) {
    uv_ip6_name(reinterpret_cast<const sockaddr_in6*>(address), host, sizeof host);
  } else if (address->sa_family == AF_INET) {
    uv_ip4_name(reinterpret_cast<const sockaddr_in*>(address), host, sizeof host);
  } else {
    return "unknown";
  }
  return host;
}

int port_of(const sockaddr* address) {
  if (address->sa_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(address)->sin6_port);
  }
  if (address->sa_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(address)->sin_port);
  }
  return 0;
}

std::string address_text(const sockaddr* address) {
  if (address->sa_family != AF_INET && address->sa_family != AF_INET6) {
    return "unknown";
  }
  std::string ip = ip_text(address);
  std::string port = std::to_string(port_of(address));
  return address->sa_family == AF_INET6 ? "[" + ip + "]:" + port : ip + ":" + port;
}

}  // namespace assas::transport
