#include "transport/nats/nats_output.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "transport/client/session_output.h"
#include "transport/nats/nats_client.h"
#include "transport/nats/nats_subject.h"

namespace assas::transport {
namespace {

bool is_ip_literal(const std::string& host) {
  in6_addr addr{};
  return ::inet_pton(AF_INET, host.c_str(), &addr) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), &addr) == 1;
}

Status validate(const NatsOutputOptions& o, const std::vector<Endpoint>& endpoints) {
  ASSAS_RETURN_IF_ERROR(validate_subject_template(o.subject));
  const NatsCredentials& c = o.credentials;
  int ways = (c.user.empty() ? 0 : 1) + (c.nkey.empty() ? 0 : 1) + (c.creds_file.empty() ? 0 : 1);
  if (ways > 1) {
    return invalid_argument(
        "credentials: use one of user/password, nkey/nkey_seed_file or creds_file");
  }
  if (c.nkey.empty() != c.nkey_seed_file.empty()) {
    return invalid_argument("credentials: nkey (the public key) and nkey_seed_file go together");
  }
  if (o.max_pending_acks == 0 || o.max_inflight_batches == 0) {
    return invalid_argument("max_pending_acks and max_inflight_batches must be at least 1");
  }
  if (!o.stream.name.empty()) {
    for (char ch : o.stream.name) {
      if (ch == '.' || ch == '*' || ch == '>' || ch == '/' || ch == '\\' ||
          static_cast<unsigned char>(ch) <= ' ') {
        return invalid_argument("stream.name: '" + o.stream.name +
                                "' must not contain '.', '*', '>', '/', '\\' or whitespace");
      }
    }
    if (o.stream.replicas < 1 || o.stream.replicas > 5) {
      return invalid_argument("stream.replicas: 1 to 5 (JetStream's limit)");
    }
  } else if (o.stream.create) {
    return invalid_argument("stream.create needs stream.name");
  }
  if (o.use_tls && o.tls.server_name.empty()) {
    // cnats checks the certificate against one DNS name: an address cannot be checked by it.
    for (const Endpoint& e : endpoints) {
      if (is_ip_literal(e.host)) {
        return invalid_argument("tls: endpoint " + e.to_string() +
                                " is an address; set tls.server_name to the DNS name in the "
                                "servers' certificates");
      }
      if (e.host != endpoints.front().host) {
        return invalid_argument(
            "tls: the endpoints have different host names; set tls.server_name to the one DNS "
            "name every server's certificate carries");
      }
    }
  }
  if (o.use_tls && !o.tls_policy.allow_tls12) {
    return invalid_argument("tls.min_version: cnats offers no setting for it; leave it out");
  }
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<Output>> make_nats_output(uv_loop_t* loop, NatsOutputOptions options) {
  std::vector<Endpoint> endpoints;
  std::shared_ptr<TlsContext> tls;
  // The endpoints, and the CA, certificate and key loaded once here, so that --check and the
  // start report a bad file by name; cnats loads them again for its own connections.
  ASSAS_RETURN_IF_ERROR(prepare_session(options, endpoints, tls));
  ASSAS_RETURN_IF_ERROR(validate(options, endpoints));
  auto client = std::make_unique<NatsClient>(options);
  return std::unique_ptr<Output>(new BrokerOutput(loop, std::move(options), std::move(client)));
}

}  // namespace assas::transport
