#include "collectors/syslog/syslog_collector_config.h"

#include "collectors/collector_entry.h"

namespace assas::collectors {

namespace {

using std::chrono::milliseconds;

constexpr int kDefaultPort[kSyslogTransportCount] = {514, 514, 6514};
constexpr const char* kKeys[kSyslogTransportCount] = {"udp", "tcp", "tls"};

Status parse_tls(const ConfigNode& node, SyslogListenerConfig& out) {
  ASSAS_RETURN_IF_ERROR(node.required_string("cert", out.tls.cert));
  ASSAS_RETURN_IF_ERROR(node.required_string("key", out.tls.key));
  ASSAS_RETURN_IF_ERROR(node.optional_string("ca", out.tls.ca));
  ASSAS_RETURN_IF_ERROR(node.optional_bool("require_client_cert", out.require_client_cert));
  if (out.require_client_cert && out.tls.ca.empty()) {
    return node.error(
        "require_client_cert needs 'ca', the CA bundle that signs the senders' certificates");
  }
  return Status::ok();
}

Status parse_listener(const ConfigNode& node, SyslogTransport transport,
                      SyslogListenerConfig& out) {
  out.transport = transport;
  int index = static_cast<int>(transport);
  // `udp:` alone (null) opens the listener with every default, like `udp: {}`.
  bool defaults = node.is_null();
  if (!defaults) {
    ASSAS_RETURN_IF_ERROR(node.expect_map());
  }
  std::vector<std::string> listen;
  if (!defaults) {
    ASSAS_RETURN_IF_ERROR(node.optional_string_list("listen", listen));
  }
  if (listen.empty()) {
    listen.push_back("0.0.0.0:" + std::to_string(kDefaultPort[index]));
  }
  for (const std::string& text : listen) {
    Result<transport::Endpoint> endpoint = transport::parse_endpoint(text, true);
    if (!endpoint.is_ok()) {
      return node.get("listen")->error(endpoint.status().message());
    }
    Result<sockaddr_storage> address = transport::listen_sockaddr(*endpoint);
    if (!address.is_ok()) {
      return node.get("listen")->error(address.status().message());
    }
    out.listen.push_back(std::move(endpoint).value());
  }
  if (defaults) {
    if (transport == SyslogTransport::kTls) {
      return node.error("a tls listener needs at least 'cert' and 'key'");
    }
    return Status::ok();
  }
  if (transport == SyslogTransport::kUdp) {
    ASSAS_RETURN_IF_ERROR(
        node.optional_size("receive_buffer", out.receive_buffer_bytes, 64 << 10, 1ULL << 30));
  }
  if (transport == SyslogTransport::kTls) {
    ASSAS_RETURN_IF_ERROR(parse_tls(node, out));
  }
  return node.no_unknown_keys();
}

Status parse_rate_limit(const ConfigNode& node, SyslogCollectorConfig& config) {
  ASSAS_RETURN_IF_ERROR(node.expect_map());
  uint64_t rate = 0;
  ASSAS_RETURN_IF_ERROR(node.optional_uint("messages_per_second", rate, 1, 10'000'000));
  if (rate == 0) {
    return node.error("missing required key 'messages_per_second' (per sender address)");
  }
  uint64_t burst = rate;
  ASSAS_RETURN_IF_ERROR(node.optional_uint("burst", burst, 1, 100'000'000));
  config.rate_per_second = static_cast<double>(rate);
  config.rate_burst = static_cast<uint32_t>(burst);
  return node.no_unknown_keys();
}

}  // namespace

std::string_view transport_name(SyslogTransport transport) {
  return kKeys[static_cast<int>(transport)];
}

Result<SyslogCollectorConfig> parse_syslog_collector_config(const ConfigNode& node,
                                                            const std::string& name) {
  SyslogCollectorConfig config;
  config.name = name;
  ASSAS_RETURN_IF_ERROR(expect_collector_entry(node));
  for (int i = 0; i < kSyslogTransportCount; ++i) {
    if (std::optional<ConfigNode> listener = node.get(kKeys[i])) {
      SyslogListenerConfig listener_config;
      ASSAS_RETURN_IF_ERROR(
          parse_listener(*listener, static_cast<SyslogTransport>(i), listener_config));
      config.listeners.push_back(std::move(listener_config));
    }
  }
  if (config.listeners.empty()) {
    return node.error(
        "a syslog collector needs at least one listener: udp, tcp or tls, e.g. "
        "udp: { listen: [\"0.0.0.0:514\"] }");
  }
  std::vector<std::string> allow;
  ASSAS_RETURN_IF_ERROR(node.optional_string_list("allow", allow));
  Result<NetworkList> networks = NetworkList::parse(allow);
  if (!networks.is_ok()) {
    return node.get("allow")->error(networks.status().message());
  }
  config.allow = std::move(networks).value();
  ASSAS_RETURN_IF_ERROR(
      node.optional_size("max_message_size", config.max_message_bytes, 480, 16ULL << 20));
  if (std::optional<ConfigNode> rate = node.get("rate_limit")) {
    ASSAS_RETURN_IF_ERROR(parse_rate_limit(*rate, config));
  }
  uint64_t max_connections = config.max_connections;
  ASSAS_RETURN_IF_ERROR(node.optional_uint("max_connections", max_connections, 1, 1'000'000));
  config.max_connections = static_cast<uint32_t>(max_connections);
  ASSAS_RETURN_IF_ERROR(node.optional_millis("handshake_timeout", config.handshake_timeout,
                                             milliseconds(100), std::chrono::minutes(10)));
  ASSAS_RETURN_IF_ERROR(node.optional_size("udp_queue", config.udp_queue_bytes, 0, 1ULL << 30));
  ASSAS_RETURN_IF_ERROR(node.optional_string_map("fields", config.fields));
  ASSAS_RETURN_IF_ERROR(node.no_unknown_keys());
  return config;
}

}  // namespace assas::collectors
