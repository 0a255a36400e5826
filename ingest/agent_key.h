#pragma once

// The certificate an agent connected with, as the store needs it to check the agent's chain
// checkpoints (docs/integrity.md): its public key, its SHA-256 fingerprint (how chain records name
// it), and its PEM (kept in certs/ so that `assas-ingest verify` can check the signatures again
// from the files alone).
//
// Immutable once made, so any thread may read it. Shared as std::shared_ptr<const AgentKey> by
// the session that made it and by every batch it received: a batch still waiting for the thread
// pool keeps the key alive after its connection is gone.

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

using EVP_PKEY = struct evp_pkey_st;
using X509 = struct x509_st;

namespace assas::ingest {

class AgentKey {
 public:
  // Takes what it needs from cert (which it does not keep).
  static Result<std::shared_ptr<const AgentKey>> from_certificate(X509* cert);
  // The same from a PEM certificate (the first one in pem).
  static Result<std::shared_ptr<const AgentKey>> from_pem(std::string_view pem);
  ~AgentKey();
  AgentKey(const AgentKey&) = delete;
  AgentKey& operator=(const AgentKey&) = delete;

  // Owned by this object; OpenSSL's verification functions only read it.
  EVP_PKEY* key() const { return key_; }
  const std::string& fingerprint() const { return fingerprint_; }  // 64 lowercase hex digits
  const std::string& pem() const { return pem_; }

 private:
  AgentKey(EVP_PKEY* key, std::string fingerprint, std::string pem)
      : key_(key), fingerprint_(std::move(fingerprint)), pem_(std::move(pem)) {}

  EVP_PKEY* key_;
  std::string fingerprint_;
  std::string pem_;
};

}  // namespace assas::ingest
