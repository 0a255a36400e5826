#include "ingest/ingest_config.h"

#include <sys/stat.h>

#include "base/config_node.h"
#include "transport/endpoint.h"
#include "transport/http_listen.h"

namespace assas::ingest {
namespace {

using std::chrono::milliseconds;

Status parse_window(const ConfigNode& node, ServiceOptions& s) {
  ASSAS_RETURN_IF_ERROR(node.expect_map());
  uint64_t batches = s.window_batches;
  ASSAS_RETURN_IF_ERROR(node.optional_uint("batches", batches, 1, 4096));
  s.window_batches = static_cast<uint32_t>(batches);
  ASSAS_RETURN_IF_ERROR(node.optional_size("bytes", s.window_bytes, 64 << 10, 4ULL << 30));
  return node.no_unknown_keys();
}

Status parse_listen(const ConfigNode& node, std::vector<std::string>& listen) {
  ASSAS_RETURN_IF_ERROR(node.optional_string_list("listen", listen));
  if (listen.empty()) {
    return node.get("listen")->error("give at least one address, e.g. [\"0.0.0.0:6514\"]");
  }
  for (const std::string& address : listen) {
    Result<transport::Endpoint> endpoint = transport::parse_endpoint(address, true);
    if (!endpoint.is_ok()) {
      return node.get("listen")->error(endpoint.status().message());
    }
  }
  return Status::ok();
}

Status parse_metrics(const ConfigNode& node, IngestMetricsOptions& metrics) {
  ASSAS_RETURN_IF_ERROR(node.expect_map());
  if (std::optional<ConfigNode> listen = node.get("listen")) {
    ASSAS_RETURN_IF_ERROR(transport::parse_http_listen(*listen, metrics.enabled, metrics.listen));
  }
  return node.no_unknown_keys();
}

Status parse_ingest(const ConfigNode& node, IngestConfig& config) {
  ASSAS_RETURN_IF_ERROR(node.expect_map());
  ServiceOptions& s = config.service;
  transport::TlsServerOptions& t = config.server;
  if (node.has("listen")) {
    ASSAS_RETURN_IF_ERROR(parse_listen(node, t.listen));
  }
  ASSAS_RETURN_IF_ERROR(node.optional_string("data_dir", s.data_dir));
  if (s.data_dir.empty()) {
    return node.get("data_dir")->error("give a directory, e.g. /var/lib/assas-ingest");
  }
  uint64_t max_connections = t.max_connections;
  ASSAS_RETURN_IF_ERROR(node.optional_uint("max_connections", max_connections, 1, 1000000));
  t.max_connections = static_cast<uint32_t>(max_connections);
  ASSAS_RETURN_IF_ERROR(
      node.optional_size("max_file_size", s.limits.max_file_size, 1 << 20, 1ULL << 40));
  uint64_t max_batch = s.limits.max_batch_bytes;
  ASSAS_RETURN_IF_ERROR(node.optional_size("max_batch_bytes", max_batch, 64 << 10, 1ULL << 30));
  s.limits.max_batch_bytes = static_cast<uint32_t>(max_batch);
  uint64_t max_frame = t.max_frame_bytes;
  ASSAS_RETURN_IF_ERROR(node.optional_size("max_frame", max_frame, 64 << 10, 1ULL << 30));
  t.max_frame_bytes = s.max_frame_bytes = static_cast<uint32_t>(max_frame);
  if (std::optional<ConfigNode> window = node.get("window")) {
    ASSAS_RETURN_IF_ERROR(parse_window(*window, s));
  }
  ASSAS_RETURN_IF_ERROR(node.optional_millis("handshake_timeout", t.handshake_timeout,
                                             milliseconds(100), std::chrono::minutes(10)));
  ASSAS_RETURN_IF_ERROR(node.optional_millis("idle_timeout", t.idle_timeout,
                                             std::chrono::seconds(1), std::chrono::hours(24)));
  std::string level = "info";
  ASSAS_RETURN_IF_ERROR(
      node.optional_choice("log_level", level, {"debug", "info", "warn", "error"}));
  log::parse_level(level, config.log_level);
  if (std::optional<ConfigNode> metrics = node.get("metrics")) {
    ASSAS_RETURN_IF_ERROR(parse_metrics(*metrics, config.metrics));
  }
  return node.no_unknown_keys();
}

Status parse_tls(const ConfigNode& node, transport::TlsServerOptions& server) {
  ASSAS_RETURN_IF_ERROR(node.expect_map());
  ASSAS_RETURN_IF_ERROR(node.required_string("ca", server.tls.ca));
  ASSAS_RETURN_IF_ERROR(node.required_string("cert", server.tls.cert));
  ASSAS_RETURN_IF_ERROR(node.required_string("key", server.tls.key));
  ASSAS_RETURN_IF_ERROR(node.optional_string("crl", server.crl));
  ASSAS_RETURN_IF_ERROR(node.optional_millis("crl_check_interval", server.crl_check_interval,
                                             std::chrono::milliseconds(100),
                                             std::chrono::hours(1)));
  return node.no_unknown_keys();
}

}  // namespace

Result<IngestConfig> load_ingest_config(const std::string& path) {
  Result<ConfigNode> root = ConfigNode::load_file(path);
  if (!root.is_ok()) {
    return root.status();
  }
  return parse_ingest_config(*root);
}

Result<IngestConfig> parse_ingest_config(const ConfigNode& root) {
  IngestConfig config;
  config.path = root.file();
  config.service.data_dir = "/var/lib/assas-ingest";
  config.server.listen = {"127.0.0.1:6514"};
  ASSAS_RETURN_IF_ERROR(root.expect_map());
  if (std::optional<ConfigNode> ingest = root.get("ingest")) {
    ASSAS_RETURN_IF_ERROR(parse_ingest(*ingest, config));
  }
  std::optional<ConfigNode> tls = root.get("tls");
  ASSAS_RETURN_IF_ERROR(root.no_unknown_keys());
  if (!tls) {
    return root.error("missing required key 'tls' (ca, cert and key of this receiver)");
  }
  ASSAS_RETURN_IF_ERROR(parse_tls(*tls, config.server));
  config.tls_file_nodes = {{*tls->get("ca"), ConfigFileKind::kPublic},
                           {*tls->get("cert"), ConfigFileKind::kPublic},
                           {*tls->get("key"), ConfigFileKind::kPrivateKey}};
  if (!config.server.crl.empty()) {
    config.tls_file_nodes.emplace_back(*tls->get("crl"), ConfigFileKind::kPublic);
  }
  config.service.window_batches = std::max<uint32_t>(config.service.window_batches, 1);
  return config;
}

Status validate_ingest_config_files(const IngestConfig& config) {
  for (const auto& [node, kind] : config.tls_file_nodes) {
    ASSAS_RETURN_IF_ERROR(check_config_file(node, kind));
  }
  return Status::ok();
}

}  // namespace assas::ingest
