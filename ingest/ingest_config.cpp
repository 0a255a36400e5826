#include "ingest/ingest_config.h"

#include <sys/stat.h>

#include "base/config_node.h"

namespace assas::ingest {
namespace {

// A configured file must exist; a key must not be readable by group or others.
Status check_file(const ConfigNode& map, std::string_view key, bool private_key) {
  std::optional<ConfigNode> node = map.get(key);
  Result<std::string> path = node->as_string();
  struct stat st {};
  if (::stat(path->c_str(), &st) != 0) {
    return node->error("file '" + *path + "' not found");
  }
  if (private_key && (st.st_mode & 077) != 0) {
    return node->error("key file '" + *path + "' is readable by group or others; run: chmod 600 " +
                       *path);
  }
  return Status::ok();
}

Status parse_ingest(const ConfigNode& node, IngestConfig& config) {
  ASSAS_RETURN_IF_ERROR(node.expect_map());
  ServiceOptions& s = config.service;
  transport::TlsServerOptions& t = config.server;
  ASSAS_RETURN_IF_ERROR(node.optional_string_list("listen", t.listen));
  if (t.listen.empty()) {
    return node.error("listen: give at least one address, e.g. [\"0.0.0.0:6514\"]");
  }
  ASSAS_RETURN_IF_ERROR(node.optional_string("data_dir", s.data_dir));
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
    ASSAS_RETURN_IF_ERROR(window->expect_map());
    uint64_t batches = s.window_batches;
    ASSAS_RETURN_IF_ERROR(window->optional_uint("batches", batches, 1, 4096));
    s.window_batches = static_cast<uint32_t>(batches);
    ASSAS_RETURN_IF_ERROR(window->optional_size("bytes", s.window_bytes, 64 << 10, 1ULL << 32));
    ASSAS_RETURN_IF_ERROR(window->no_unknown_keys());
  }
  std::chrono::nanoseconds handshake = t.handshake_timeout;
  std::chrono::nanoseconds idle = t.idle_timeout;
  ASSAS_RETURN_IF_ERROR(node.optional_duration("handshake_timeout", handshake,
                                               std::chrono::milliseconds(100),
                                               std::chrono::minutes(10)));
  ASSAS_RETURN_IF_ERROR(node.optional_duration("idle_timeout", idle, std::chrono::seconds(1),
                                               std::chrono::hours(24)));
  t.handshake_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(handshake);
  t.idle_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(idle);
  std::string level = "info";
  ASSAS_RETURN_IF_ERROR(node.optional_choice("log_level", level, {"debug", "info", "warn", "error"}));
  log::parse_level(level, config.log_level);
  return node.no_unknown_keys();
}

Status parse_tls(const ConfigNode& node, transport::TlsConfig& tls) {
  ASSAS_RETURN_IF_ERROR(node.expect_map());
  ASSAS_RETURN_IF_ERROR(node.required_string("ca", tls.ca));
  ASSAS_RETURN_IF_ERROR(node.required_string("cert", tls.cert));
  ASSAS_RETURN_IF_ERROR(node.required_string("key", tls.key));
  ASSAS_RETURN_IF_ERROR(node.no_unknown_keys());
  ASSAS_RETURN_IF_ERROR(check_file(node, "ca", false));
  ASSAS_RETURN_IF_ERROR(check_file(node, "cert", false));
  return check_file(node, "key", true);
}

}  // namespace

Result<IngestConfig> load_ingest_config(const std::string& path) {
  Result<ConfigNode> root = ConfigNode::load_file(path);
  if (!root.is_ok()) {
    return root.status();
  }
  IngestConfig config;
  config.service.data_dir = "/var/lib/assas-ingest";
  config.server.listen = {"127.0.0.1:6514"};
  ASSAS_RETURN_IF_ERROR(root->expect_map());
  if (std::optional<ConfigNode> ingest = root->get("ingest")) {
    ASSAS_RETURN_IF_ERROR(parse_ingest(*ingest, config));
  }
  std::optional<ConfigNode> tls = root->get("tls");
  if (!tls) {
    return root->error("missing required key 'tls' (ca, cert and key of this receiver)");
  }
  ASSAS_RETURN_IF_ERROR(parse_tls(*tls, config.server.tls));
  ASSAS_RETURN_IF_ERROR(root->no_unknown_keys());
  return config;
}

}  // namespace assas::ingest
