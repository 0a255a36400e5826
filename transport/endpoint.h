#pragma once

#include <string>
#include <string_view>

#include <sys/socket.h>

#include "base/status.h"

namespace assas::transport {

// "host:port" or "[v6-address]:port", as written in configs.
struct Endpoint {
  std::string host;
  int port = 0;
  std::string to_string() const;
};

// Fails with a message that shows the accepted forms. Port 0 ("any free port") only for listen
// addresses.
Result<Endpoint> parse_endpoint(std::string_view text, bool allow_port_zero = false);

// A listen address as a socket address: the host must be an IP address (no name lookup).
Result<sockaddr_storage> listen_sockaddr(const Endpoint& address);

// "10.1.2.3:514" or "[::1]:514"; "unknown" for another family.
std::string address_text(const sockaddr* address);
// The same without the port: "10.1.2.3" or "::1".
std::string ip_text(const sockaddr* address);
// The port of an AF_INET or AF_INET6 address (0 for another family).
int port_of(const sockaddr* address);

}  // namespace assas::transport
