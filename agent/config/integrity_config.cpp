#include "agent/config/integrity_config.h"

namespace assas::agent {

Status parse_integrity(const ConfigNode& node, IntegrityConfig& integrity) {
  ASSAS_RETURN_IF_ERROR(node.expect_map());
  ASSAS_RETURN_IF_ERROR(node.optional_bool("chain", integrity.chain));
  uint64_t sign_every = integrity.sign_every;
  ASSAS_RETURN_IF_ERROR(node.optional_uint("sign_every", sign_every, 0, 1000000));
  integrity.sign_every = static_cast<uint32_t>(sign_every);
  ASSAS_RETURN_IF_ERROR(node.optional_millis("sign_interval", integrity.sign_interval,
                                             std::chrono::milliseconds(100),
                                             std::chrono::hours(1)));
  if (std::optional<ConfigNode> key = node.get("signing_key")) {
    ASSAS_RETURN_IF_ERROR(node.optional_string("signing_key", integrity.signing_key));
    if (integrity.signing_key.empty()) {
      return key->error("must be the path of a PEM private key, e.g. /etc/assas/agent.key");
    }
    integrity.signing_key_node = *key;
  }
  return node.no_unknown_keys();
}

void default_signing_key(const std::vector<OutputSpec>& outputs, IntegrityConfig& integrity) {
  if (!integrity.signing_key.empty()) {
    return;
  }
  for (const OutputSpec& output : outputs) {
    if (output.type != "assas") {
      continue;
    }
    for (const auto& [node, is_key] : output.file_nodes) {
      if (is_key) {
        integrity.signing_key = output.session().tls.key;
        integrity.signing_key_node = node;
        return;
      }
    }
    return;
  }
}

Result<std::shared_ptr<const transport::ChainSigner>> make_chain_signer(
    const IntegrityConfig& integrity) {
  if (!integrity.chain || integrity.signing_key.empty()) {
    return std::shared_ptr<const transport::ChainSigner>();
  }
  Result<std::unique_ptr<transport::ChainSigner>> signer =
      transport::ChainSigner::from_key_file(integrity.signing_key);
  if (!signer.is_ok()) {
    std::string message =
        "cannot load the key that signs the hash chain: " + signer.status().message() +
        "; give a PEM private key without a passphrase, readable by its owner only (chmod 600), "
        "or set integrity.signing_key to one (docs/integrity.md)";
    if (integrity.signing_key_node) {
      return integrity.signing_key_node->error(message);
    }
    return invalid_argument(message);
  }
  return std::shared_ptr<const transport::ChainSigner>(std::move(signer).value());
}

}  // namespace assas::agent
