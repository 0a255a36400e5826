#pragma once

// The certificates that signed an agent's checkpoints, as assas-ingest keeps them:
// <agent dir>/certs/<fingerprint>.pem (docs/integrity.md, "Stored files"). Each is read once, its
// fingerprint checked against its name, and, with a CA, its chain checked against the CA without
// looking at the clock: evidence outlives certificates, so an expired certificate still proves
// what it signed while it was valid.
//
// Blocking; one thread. Not copyable.

#include <map>
#include <memory>
#include <string>

#include "base/status.h"

using EVP_PKEY = struct evp_pkey_st;
using X509_STORE = struct x509_store_st;

namespace assas::ingest {

// The trusted CA certificates of --ca.
class TrustedCa {
 public:
  static Result<std::unique_ptr<TrustedCa>> load(const std::string& path);
  ~TrustedCa();
  TrustedCa(const TrustedCa&) = delete;
  TrustedCa& operator=(const TrustedCa&) = delete;

  X509_STORE* store() const { return store_; }

 private:
  explicit TrustedCa(X509_STORE* store) : store_(store) {}
  X509_STORE* store_;
};

class CertStore {
 public:
  struct Cert {
    EVP_PKEY* key = nullptr;  // null when the certificate cannot be used: see unusable
    std::string unusable;     // why there is no key: missing, not PEM, another fingerprint
    std::string untrusted;    // with a CA: why the certificate does not verify against it
  };

  // ca may be null (no --ca); it must outlive this object.
  CertStore(std::string certs_dir, const TrustedCa* ca) : dir_(std::move(certs_dir)), ca_(ca) {}
  ~CertStore();
  CertStore(const CertStore&) = delete;
  CertStore& operator=(const CertStore&) = delete;

  // The certificate named by a chain record's fingerprint (64 lowercase hex digits); read on first
  // use. The reference stays valid as long as this object.
  const Cert& get(const std::string& fingerprint);

 private:
  Cert load(const std::string& fingerprint) const;

  std::string dir_;
  const TrustedCa* ca_;
  std::map<std::string, Cert> certs_;
};

}  // namespace assas::ingest
