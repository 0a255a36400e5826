#pragma once

// Signs and checks chain checkpoints (transport/protocol/chain.h) with the agent's key: by default
// the private key of its TLS client certificate, so that the SOC can prove which host produced
// which lines independently of any TLS session. Any key type OpenSSL signs with works: RSA
// (PKCS#1 v1.5 with SHA-256), ECDSA (with SHA-256) and Ed25519 (pure).

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "transport/protocol/chain.h"

using EVP_PKEY = struct evp_pkey_st;
using X509 = struct x509_st;

namespace assas::transport {

class ChainSigner {
 public:
  // Reads a PEM private key (refused when readable by group or others, like the TLS key).
  static Result<std::unique_ptr<ChainSigner>> from_key_file(const std::string& path);
  ~ChainSigner();
  ChainSigner(const ChainSigner&) = delete;
  ChainSigner& operator=(const ChainSigner&) = delete;

  Result<std::string> sign(uint64_t seq, const Digest& link) const;

 private:
  explicit ChainSigner(EVP_PKEY* key) : key_(key) {}
  EVP_PKEY* key_;
};

// Whether signature is key's signature of checkpoint_message(seq, link).
bool verify_checkpoint(EVP_PKEY* key, uint64_t seq, const Digest& link, std::string_view signature);

// The certificate's SHA-256 fingerprint (of its DER form), lowercase hex: how stored chain
// records name the certificate whose key signed them.
std::string certificate_fingerprint(X509* cert);

}  // namespace assas::transport
