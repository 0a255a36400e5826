#pragma once

// A certificate revocation list (CRL) file for assas-ingest: the agents whose certificates the
// SOC has revoked (a stolen gateway, a retired server) are refused at the handshake, and their
// connections already open are closed when a new list arrives. The file holds one or more PEM CRLs
// (`openssl ca -gencrl`), each of which must be signed by a CA of the configured CA bundle: a list
// from another CA would otherwise make OpenSSL refuse every agent ("unable to get certificate
// CRL"), so it is refused when loaded instead, and the previous list stays in force.
//
// Immutable after load; loop thread only (it is installed into a TlsContext between handshakes).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <openssl/x509.h>

#include "base/status.h"

namespace assas::transport {

class RevocationList {
 public:
  // Reads crl_path and checks every CRL in it against the CAs of ca_path. Errors name the file
  // and the CRL's problem (not PEM, no CRL, not signed by a configured CA).
  static Result<std::shared_ptr<const RevocationList>> load(const std::string& crl_path,
                                                            const std::string& ca_path);
  ~RevocationList();
  RevocationList(const RevocationList&) = delete;
  RevocationList& operator=(const RevocationList&) = delete;

  // A new verification store for a server context: ca_path's CAs, these CRLs, and CRL checking of
  // the client certificate (the leaf: the CAs are the SOC's own).
  Result<X509_STORE*> make_store(const std::string& ca_path) const;
  // Whether cert is on one of the lists.
  bool revokes(X509* cert) const;
  size_t revoked_count() const;
  // The soonest nextUpdate of the CRLs, seconds since the epoch (0: none given). Past it, OpenSSL
  // refuses every agent ("CRL has expired") until a newer list is published: failing closed.
  int64_t next_update() const { return next_update_; }

 private:
  RevocationList() = default;
  std::vector<X509_CRL*> crls_;
  int64_t next_update_ = 0;
};

}  // namespace assas::transport
