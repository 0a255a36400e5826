#pragma once

// The keys of a `type: syslog` collector (docs/collectors/syslog.md): which listeners to open,
// who may send, and the limits that guard the agent against a flood or a hostile sender.

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/config_node.h"
#include "base/status.h"
#include "collectors/syslog/network_list.h"
#include "transport/endpoint.h"
#include "transport/tls/tls_config.h"

namespace assas::collectors {

enum class SyslogTransport : uint8_t { kUdp = 0, kTcp = 1, kTls = 2 };
inline constexpr int kSyslogTransportCount = 3;
std::string_view transport_name(SyslogTransport transport);

struct SyslogListenerConfig {
  SyslogTransport transport = SyslogTransport::kUdp;
  std::vector<transport::Endpoint> listen;
  transport::TlsConfig tls;          // kTls only
  bool require_client_cert = false;  // kTls only
  // kUdp: the socket's receive buffer (SO_RCVBUF). Bursts beyond it are dropped by the kernel
  // (and counted); Linux's default, about 200 KiB, holds only some hundred datagrams.
  uint64_t receive_buffer_bytes = 4ULL << 20;
};

struct SyslogCollectorConfig {
  std::string name;
  std::vector<SyslogListenerConfig> listeners;  // in the order udp, tcp, tls
  NetworkList allow;                            // empty: every sender
  uint64_t max_message_bytes = 64ULL << 10;
  double rate_per_second = 0;  // per sender address; 0: no limit
  uint32_t rate_burst = 0;
  uint32_t max_connections = 1024;  // TCP and TLS together
  std::chrono::milliseconds handshake_timeout{10000};
  // UDP cannot wait: while the pipeline is paused, datagrams wait in memory up to this many bytes,
  // and are dropped (and counted) beyond.
  uint64_t udp_queue_bytes = 4ULL << 20;
  std::vector<std::pair<std::string, std::string>> fields;
};

Result<SyslogCollectorConfig> parse_syslog_collector_config(const ConfigNode& node,
                                                            const std::string& name);

}  // namespace assas::collectors
