#pragma once

#include <string>
#include <string_view>

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

}  // namespace assas::transport
