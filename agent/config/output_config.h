#pragma once

// The `outputs:` entries of agent.yaml (docs/config.md and docs/outputs/): the keys every output
// has (endpoints, mode, TLS, backoff, ...) and each type's own. Parsing follows the house rule:
// unknown keys are refused and every error names the file, line, column and key path.

#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <uv.h>

#include "base/config_node.h"
#include "base/status.h"
#include "transport/client/assas_output.h"
#include "transport/kafka/kafka_output.h"
#include "transport/nats/nats_output.h"
#include "transport/output.h"
#include "transport/relp/relp_frame.h"
#include "transport/relp/relp_output.h"
#include "transport/syslog/syslog_output.h"

namespace assas::agent {

using OutputOptions = std::variant<transport::AssasOutputOptions, transport::SyslogOutputOptions,
                                   transport::RelpOutputOptions, transport::NatsOutputOptions,
                                   transport::KafkaOutputOptions>;

// The settings every type shares, of whichever type options holds.
const transport::SessionOptions& session_options(const OutputOptions& options);
transport::SessionOptions& session_options(OutputOptions& options);

struct OutputSpec {
  std::string type;  // assas, syslog, relp, nats, kafka
  std::string name;
  bool loadbalance = false;       // mode: loadbalance (one lane per endpoint)
  uint64_t max_behind_bytes = 0;  // 0: never cut loose
  OutputOptions options;
  // The nodes of the certificate and key paths, so that --check points at the right line.
  std::vector<std::pair<ConfigNode, bool /*is_private_key*/>> file_nodes;

  const transport::SessionOptions& session() const { return session_options(options); }
  transport::SessionOptions& session() { return session_options(options); }
};

Status parse_output(const ConfigNode& node, OutputSpec& out);

// The parts of parse_output that every type's parser uses (output_config.cpp).
// endpoints, failback_after, max_inflight, connect_timeout, backoff:
Status parse_session(const ConfigNode& node, transport::SessionOptions& s);
// transport: tls (default; then tls: {ca, cert?, key?, server_name?, min_version?}) or tcp, and
// with allow_udp also udp:
Status parse_transport(const ConfigNode& node, bool allow_udp, OutputSpec& out,
                       transport::SessionOptions& s);
// Each engine's own keys (nats_output_config.cpp, kafka_output_config.cpp).
Status parse_nats(const ConfigNode& node, OutputSpec& out);
Status parse_kafka(const ConfigNode& node, OutputSpec& out);

// The Output of one lane. name, first_endpoint and (for assas) the identity come from the caller.
Result<std::unique_ptr<transport::Output>> make_output(uv_loop_t* loop, OutputOptions options);

}  // namespace assas::agent
