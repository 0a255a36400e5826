#pragma once

// assas-ingest's configuration file (docs/ingest.md has every key and its default):
//   ingest: { listen, data_dir, max_connections, max_file_size, max_batch_bytes, max_frame,
//             window: { batches, bytes }, handshake_timeout, idle_timeout, log_level,
//             metrics: { listen } }
//   tls:    { ca, cert, key, crl, crl_check_interval }   (ca, cert and key required)
// Unknown keys are errors, with file, line, column and the list of valid keys.

#include <string>
#include <utility>
#include <vector>

#include "base/config_files.h"
#include "base/config_node.h"
#include "base/log.h"
#include "base/status.h"
#include "ingest/ingest_metrics.h"
#include "ingest/ingest_service.h"
#include "transport/server/tls_server.h"

namespace assas::ingest {

struct IngestConfig {
  std::string path;  // the file it came from, for messages
  transport::TlsServerOptions server;
  ServiceOptions service;
  IngestMetricsOptions metrics;
  log::Level log_level = log::Level::kInfo;
  // The tls ca, cert and key values, for messages that point at them.
  std::vector<std::pair<ConfigNode, ConfigFileKind>> tls_file_nodes;
};

// Parses and checks the file's syntax and values. Touches no file but the config itself.
Result<IngestConfig> load_ingest_config(const std::string& path);
// The same for a config already read (ConfigNode::load_string): what load_ingest_config does
// after reading the file, and the entry point of the config fuzz target.
Result<IngestConfig> parse_ingest_config(const ConfigNode& root);

// Checks what the config names on disk: the TLS files exist and are regular files, and the key is
// not readable by group or others. Run by --check and at start.
Status validate_ingest_config_files(const IngestConfig& config);

}  // namespace assas::ingest
