#pragma once

// The `integrity:` section of agent.yaml (docs/config.md, docs/integrity.md): the hash chain of
// custody and the key that signs its checkpoints.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/output_config.h"
#include "base/config_node.h"
#include "base/status.h"
#include "transport/tls/chain_signer.h"

namespace assas::agent {

struct IntegrityConfig {
  bool chain = true;
  uint32_t sign_every = 16;  // 0: never by count
  std::chrono::milliseconds sign_interval{5000};
  // The PEM private key that signs checkpoints: integrity.signing_key, else the tls.key of the
  // first output of type assas, else empty (the chain is not signed).
  std::string signing_key;
  // The config value that named signing_key, so that errors point at it.
  std::optional<ConfigNode> signing_key_node;
};

Status parse_integrity(const ConfigNode& node, IntegrityConfig& integrity);
// Without integrity.signing_key, the chain is signed with the key of the agent's TLS client
// certificate: the tls.key of the first assas output (if there is one).
void default_signing_key(const std::vector<OutputSpec>& outputs, IntegrityConfig& integrity);
// The checkpoint signer: null when the chain is off or no key is configured. A key that cannot be
// loaded is an error naming the config value (integrity.signing_key, or the output's tls.key) and
// the fix. Blocking (reads the key file): at start, a reload and --check.
Result<std::shared_ptr<const transport::ChainSigner>> make_chain_signer(
    const IntegrityConfig& integrity);

}  // namespace assas::agent
