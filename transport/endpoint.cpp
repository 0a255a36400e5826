#include "transport/endpoint.h"

#include <charconv>

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

}  // namespace assas::transport
