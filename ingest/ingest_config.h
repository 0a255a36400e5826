#pragma once

// assas-ingest's configuration file (docs/ingest.md):
//   ingest: { listen, data_dir, max_connections, max_file_size, max_batch_bytes, max_frame,
//             window: { batches, bytes }, handshake_timeout, idle_timeout, log_level }
//   tls:    { ca, cert, key }

#include <string>

#include "base/log.h"
#include "base/status.h"
#include "ingest/ingest_service.h"
#include "transport/server/tls_server.h"

namespace assas::ingest {

struct IngestConfig {
  transport::TlsServerOptions server;
  ServiceOptions service;
  log::Level log_level = log::Level::kInfo;
};

// Parses and checks the file, including that the TLS files exist and the key is private.
Result<IngestConfig> load_ingest_config(const std::string& path);

}  // namespace assas::ingest
