#pragma once

// Binds an HttpServer (base/http_server.h) to a configured address: the agent's metrics.listen
// and assas-ingest's ingest.metrics.listen. The endpoints are unauthenticated, so one on an
// address other than loopback is said in the log at start.

#include <string_view>

#include "base/http_server.h"
#include "base/status.h"
#include "transport/endpoint.h"

namespace assas::transport {

// Listens on address; an error names config_key and the address. paths ("/metrics") is logged
// with the bound port once it listens.
Status listen_http(HttpServer& server, const Endpoint& address, std::string_view config_key,
                   std::string_view paths);

}  // namespace assas::transport
