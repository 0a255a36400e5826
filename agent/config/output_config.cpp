#include "agent/config/output_config.h"

#include "agent/config/agent_config.h"

namespace assas::agent {
namespace {

using std::chrono::milliseconds;
using transport::SessionOptions;

Status parse_endpoints(const ConfigNode& node, SessionOptions& s) {
  ASSAS_RETURN_IF_ERROR(node.optional_string_list("endpoints", s.endpoints));
  if (s.endpoints.empty()) {
    return node.error("missing required key 'endpoints', e.g. [\"soc1.example.ma:6514\"]");
  }
  Result<std::vector<ConfigNode>> endpoint_nodes = node.get("endpoints")->items();
  for (size_t i = 0; i < s.endpoints.size(); ++i) {
    Result<transport::Endpoint> e = transport::parse_endpoint(s.endpoints[i]);
    if (!e.is_ok()) {
      return (*endpoint_nodes)[i].error(e.status().message());
    }
  }
  return Status::ok();
}

// tls: for the native protocol (TLS 1.3 and a client certificate, always), or for a syslog or RELP
// receiver (TLS 1.2 allowed, the client certificate optional: mutual TLS where the receiver asks).
Status parse_tls(const ConfigNode& node, bool native, OutputSpec& out, SessionOptions& s) {
  std::optional<ConfigNode> tls = node.get("tls");
  if (!tls) {
    return node.error(native ? "missing required key 'tls' (ca, cert and key); TLS cannot be "
                               "turned off"
                             : "missing required key 'tls' (at least ca: the CA that signs the "
                               "receiver's certificate); for a receiver without TLS set "
                               "transport: tcp");
  }
  ASSAS_RETURN_IF_ERROR(tls->expect_map());
  ASSAS_RETURN_IF_ERROR(tls->required_string("ca", s.tls.ca));
  out.file_nodes = {{*tls->get("ca"), false}};
  if (native) {
    ASSAS_RETURN_IF_ERROR(tls->required_string("cert", s.tls.cert));
    ASSAS_RETURN_IF_ERROR(tls->required_string("key", s.tls.key));
  } else {
    ASSAS_RETURN_IF_ERROR(tls->optional_string("cert", s.tls.cert));
    ASSAS_RETURN_IF_ERROR(tls->optional_string("key", s.tls.key));
    if (s.tls.cert.empty() != s.tls.key.empty()) {
      return tls->error("set both cert and key (mutual TLS) or neither");
    }
    std::string min_version = "1.2";
    ASSAS_RETURN_IF_ERROR(tls->optional_choice("min_version", min_version, {"1.2", "1.3"}));
    s.tls_policy.allow_tls12 = min_version == "1.2";
    s.tls_policy.client_cert_optional = true;
  }
  if (!s.tls.cert.empty()) {
    out.file_nodes.emplace_back(*tls->get("cert"), false);
    out.file_nodes.emplace_back(*tls->get("key"), true);
  }
  ASSAS_RETURN_IF_ERROR(tls->optional_string("server_name", s.tls.server_name));
  return tls->no_unknown_keys();
}

Status parse_assas(const ConfigNode& node, OutputSpec& out) {
  transport::AssasOutputOptions a;
  ASSAS_RETURN_IF_ERROR(parse_session(node, a));
  ASSAS_RETURN_IF_ERROR(parse_tls(node, true, out, a));
  if (std::optional<ConfigNode> heartbeat = node.get("heartbeat")) {
    ASSAS_RETURN_IF_ERROR(heartbeat->expect_map());
    ASSAS_RETURN_IF_ERROR(heartbeat->optional_millis("interval", a.heartbeat_interval,
                                                     milliseconds(10), milliseconds(3600000)));
    ASSAS_RETURN_IF_ERROR(heartbeat->optional_millis("timeout", a.heartbeat_timeout,
                                                     milliseconds(20), milliseconds(3600000)));
    ASSAS_RETURN_IF_ERROR(heartbeat->no_unknown_keys());
  }
  out.options = std::move(a);
  return Status::ok();
}

// facility: local0 or 16; severity: notice or 5.
Status parse_code(const ConfigNode& node, std::string_view key, bool facility, int& out) {
  std::optional<ConfigNode> value = node.get(key);
  if (!value) {
    return Status::ok();
  }
  Result<std::string> text = value->as_string();
  if (!text.is_ok()) {
    return text.status();
  }
  int code = facility ? transport::syslog_facility_code(*text)
                      : transport::syslog_severity_code(*text, {});
  if (code < 0) {
    return value->error(facility ? "'" + *text +
                                       "' is not a facility: 0..23 or kern user mail daemon auth "
                                       "syslog lpr news uucp cron authpriv ftp ntp security "
                                       "console solaris-cron local0..local7"
                                 : "'" + *text +
                                       "' is not a severity: 0..7 or emerg alert crit err "
                                       "warning notice info debug");
  }
  out = code;
  return Status::ok();
}

Status parse_format(const ConfigNode& node, transport::SyslogFormat& f) {
  std::optional<ConfigNode> format = node.get("format");
  if (!format) {
    return Status::ok();
  }
  ASSAS_RETURN_IF_ERROR(format->expect_map());
  ASSAS_RETURN_IF_ERROR(parse_code(*format, "facility", true, f.facility));
  ASSAS_RETURN_IF_ERROR(parse_code(*format, "severity", false, f.severity));
  ASSAS_RETURN_IF_ERROR(format->optional_string_list("facility_fields", f.facility_fields));
  ASSAS_RETURN_IF_ERROR(format->optional_string_list("severity_fields", f.severity_fields));
  std::vector<std::pair<std::string, std::string>> names;
  ASSAS_RETURN_IF_ERROR(format->optional_string_map("severity_names", names));
  for (const auto& [name, value] : names) {
    int code = transport::syslog_severity_code(value, {});
    if (code < 0) {
      return format->get("severity_names")
          ->error("severity name '" + name + "' maps to '" + value +
                  "', which is not a severity: 0..7 or emerg alert crit err warning notice "
                  "info debug");
    }
    std::string lower;
    for (char c : name) {
      lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    f.severity_names.emplace_back(lower, code);
  }
  ASSAS_RETURN_IF_ERROR(format->optional_string("hostname", f.hostname));
  ASSAS_RETURN_IF_ERROR(format->optional_string_list("hostname_fields", f.hostname_fields));
  ASSAS_RETURN_IF_ERROR(format->optional_string("app_name", f.app_name));
  ASSAS_RETURN_IF_ERROR(format->optional_string_list("app_name_fields", f.app_name_fields));
  ASSAS_RETURN_IF_ERROR(format->optional_string_list("procid_fields", f.procid_fields));
  ASSAS_RETURN_IF_ERROR(format->optional_string_list("msgid_fields", f.msgid_fields));
  ASSAS_RETURN_IF_ERROR(format->optional_string_list("timestamp_fields", f.timestamp_fields));
  ASSAS_RETURN_IF_ERROR(format->optional_string("sd_id", f.sd_id));
  ASSAS_RETURN_IF_ERROR(format->optional_bool("bom", f.bom));
  ASSAS_RETURN_IF_ERROR(format->optional_bool("relay_rfc5424", f.relay_rfc5424));
  ASSAS_RETURN_IF_ERROR(format->no_unknown_keys());
  Status valid = transport::validate_syslog_format(f);
  return valid.is_ok() ? valid : format->error(valid.message());
}

// ack_timeout: how long data may stay unacknowledged (by the receiver's TCP for syslog, by its
// RELP answers for relp) before the receiver is presumed gone.
Status parse_ack_timeout(const ConfigNode& node, SessionOptions& s) {
  milliseconds timeout(60000);
  ASSAS_RETURN_IF_ERROR(
      node.optional_millis("ack_timeout", timeout, milliseconds(1000), milliseconds(3600000)));
  s.tcp_user_timeout = timeout;
  return Status::ok();
}

Status parse_syslog(const ConfigNode& node, OutputSpec& out) {
  transport::SyslogOutputOptions o;
  ASSAS_RETURN_IF_ERROR(parse_session(node, o));
  ASSAS_RETURN_IF_ERROR(parse_transport(node, true, out, o));
  bool udp = o.socket == transport::SocketKind::kDatagram;
  std::string framing = "octet_counting";
  ASSAS_RETURN_IF_ERROR(node.optional_choice("framing", framing, {"octet_counting", "newline"}));
  if (udp && node.has("framing")) {
    return node.get("framing")->error("framing is for tcp and tls; a UDP datagram is one message");
  }
  o.framing = framing == "newline" ? transport::SyslogFraming::kNewline
                                   : transport::SyslogFraming::kOctetCounting;
  // A UDP datagram carries at most 65,507 bytes over IPv4 (RFC 5426 asks receivers for 2,048).
  uint64_t max_message = udp ? 8192 : o.max_message_bytes;
  ASSAS_RETURN_IF_ERROR(
      node.optional_size("max_message_size", max_message, 480, udp ? 65507 : 16ULL << 20));
  o.max_message_bytes = max_message;
  ASSAS_RETURN_IF_ERROR(parse_ack_timeout(node, o));
  ASSAS_RETURN_IF_ERROR(parse_format(node, o.format));
  out.options = std::move(o);
  return Status::ok();
}

Status parse_relp(const ConfigNode& node, OutputSpec& out) {
  transport::RelpOutputOptions o;
  ASSAS_RETURN_IF_ERROR(parse_session(node, o));
  ASSAS_RETURN_IF_ERROR(parse_transport(node, false, out, o));
  uint64_t max_message = o.max_message_bytes;
  ASSAS_RETURN_IF_ERROR(node.optional_size("max_message_size", max_message, 480,
                                           transport::kRelpDefaultMaxDataBytes));
  o.max_message_bytes = max_message;
  uint64_t window = o.window;
  ASSAS_RETURN_IF_ERROR(node.optional_uint("window", window, 1, 65536));
  o.window = static_cast<uint32_t>(window);
  ASSAS_RETURN_IF_ERROR(parse_ack_timeout(node, o));
  o.ack_timeout = o.tcp_user_timeout;  // RELP answers are the application's acknowledgement
  ASSAS_RETURN_IF_ERROR(parse_format(node, o.format));
  out.options = std::move(o);
  return Status::ok();
}

}  // namespace

// The keys every output type has, beside endpoints and tls.
Status parse_session(const ConfigNode& node, SessionOptions& s) {
  ASSAS_RETURN_IF_ERROR(node.optional_millis("failback_after", s.failback_after, milliseconds(0),
                                             milliseconds(86400000)));
  ASSAS_RETURN_IF_ERROR(parse_endpoints(node, s));
  ASSAS_RETURN_IF_ERROR(
      node.optional_size("max_inflight", s.max_inflight_bytes, 64 << 10, 1ULL << 32));
  ASSAS_RETURN_IF_ERROR(node.optional_millis("connect_timeout", s.connect_timeout,
                                             milliseconds(100), milliseconds(600000)));
  if (std::optional<ConfigNode> backoff = node.get("backoff")) {
    ASSAS_RETURN_IF_ERROR(backoff->expect_map());
    ASSAS_RETURN_IF_ERROR(
        backoff->optional_millis("min", s.backoff_min, milliseconds(1), milliseconds(600000)));
    ASSAS_RETURN_IF_ERROR(
        backoff->optional_millis("max", s.backoff_max, milliseconds(1), milliseconds(3600000)));
    ASSAS_RETURN_IF_ERROR(backoff->no_unknown_keys());
    if (s.backoff_max < s.backoff_min) {
      return backoff->error("max must not be below min");
    }
  }
  return Status::ok();
}

// transport: tls (default), tcp, and for syslog udp.
Status parse_transport(const ConfigNode& node, bool allow_udp, OutputSpec& out, SessionOptions& s) {
  std::string transport = "tls";
  ASSAS_RETURN_IF_ERROR(allow_udp
                            ? node.optional_choice("transport", transport, {"tls", "tcp", "udp"})
                            : node.optional_choice("transport", transport, {"tls", "tcp"}));
  s.use_tls = transport == "tls";
  s.socket = transport == "udp" ? transport::SocketKind::kDatagram : transport::SocketKind::kStream;
  if (s.use_tls) {
    return parse_tls(node, false, out, s);
  }
  if (node.has("tls")) {
    return node.get("tls")->error("tls is set but transport is " + transport +
                                  "; remove one of them");
  }
  return Status::ok();
}

const transport::SessionOptions& session_options(const OutputOptions& options) {
  return std::visit([](const auto& o) -> const SessionOptions& { return o; }, options);
}

transport::SessionOptions& session_options(OutputOptions& options) {
  return std::visit([](auto& o) -> SessionOptions& { return o; }, options);
}

Status parse_output(const ConfigNode& node, OutputSpec& out) {
  ASSAS_RETURN_IF_ERROR(node.expect_map());
  ASSAS_RETURN_IF_ERROR(node.required_string("type", out.type));
  out.name = out.type;
  ASSAS_RETURN_IF_ERROR(node.optional_string("name", out.name));
  if (!is_safe_name(out.name, 64)) {
    // Without a name key the name is the type's, so the error points there.
    return (node.has("name") ? node.get("name") : node.get("type"))
        ->error(
            "output names are 1 to 64 of A-Z a-z 0-9 _ . - (not starting "
            "with '.'), as they label metrics and log lines");
  }
  std::string mode = "failover";
  ASSAS_RETURN_IF_ERROR(node.optional_choice("mode", mode, {"failover", "loadbalance"}));
  out.loadbalance = mode == "loadbalance";
  ASSAS_RETURN_IF_ERROR(
      node.optional_size("max_behind", out.max_behind_bytes, 1 << 20, 1ULL << 44));
  if (out.type == "assas") {
    ASSAS_RETURN_IF_ERROR(parse_assas(node, out));
  } else if (out.type == "syslog") {
    ASSAS_RETURN_IF_ERROR(parse_syslog(node, out));
  } else if (out.type == "relp") {
    ASSAS_RETURN_IF_ERROR(parse_relp(node, out));
  } else if (out.type == "nats") {
    ASSAS_RETURN_IF_ERROR(parse_nats(node, out));
  } else if (out.type == "kafka") {
    ASSAS_RETURN_IF_ERROR(parse_kafka(node, out));
  } else {
    return node.get("type")->error("'" + out.type +
                                   "' is not an output type; this version has: assas, syslog, "
                                   "relp, nats, kafka");
  }
  if (out.loadbalance && (out.type == "nats" || out.type == "kafka")) {
    return node.get("mode")->error("mode: loadbalance is for receivers; " + out.type +
                                   " spreads the load over its cluster itself");
  }
  out.session().name = out.name;
  return node.no_unknown_keys();
}

Result<std::unique_ptr<transport::Output>> make_output(uv_loop_t* loop, OutputOptions options) {
  if (auto* a = std::get_if<transport::AssasOutputOptions>(&options)) {
    return transport::make_assas_output(loop, std::move(*a));
  }
  if (auto* s = std::get_if<transport::SyslogOutputOptions>(&options)) {
    return transport::make_syslog_output(loop, std::move(*s));
  }
  if (auto* n = std::get_if<transport::NatsOutputOptions>(&options)) {
    return transport::make_nats_output(loop, std::move(*n));
  }
  if (auto* k = std::get_if<transport::KafkaOutputOptions>(&options)) {
    return transport::make_kafka_output(loop, std::move(*k));
  }
  return transport::make_relp_output(loop, std::get<transport::RelpOutputOptions>(options));
}

}  // namespace assas::agent
