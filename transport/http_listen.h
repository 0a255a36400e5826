#pragma once

// Binds an HttpServer (base/http_server.h) to a configured address: the agent's metrics.listen
// and assas-ingest's ingest.metrics.listen. The endpoints are unauthenticated, so one on an
// address other than loopback is said in the log at start.

#include <string_view>

#include "base/config_node.h"
#include "base/http_server.h"
#include "base/status.h"
#include "transport/endpoint.h"

namespace assas::transport {

// A `listen:` value of such an endpoint: an address ("127.0.0.1:9464", "[::1]:9464") sets
// enabled and address; true enables it on the address already there (the default), false turns it
// off. Port 0 picks a free port (tests). Errors point at node.
Status parse_http_listen(const ConfigNode& node, bool& enabled, Endpoint& address);

// Listens on address; an error names config_key and the address. paths ("/metrics") is logged
// with the bound port once it listens.
Status listen_http(HttpServer& server, const Endpoint& address, std::string_view config_key,
                   std::string_view paths);

}  // namespace assas::transport
