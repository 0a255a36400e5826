#pragma once

// An OpenSSL SSL_CTX configured the one way Assas allows for its native protocol: TLS 1.3 only,
// peer verification always on (there is no switch to turn it off; TlsServerPolicy relaxes the
// server side for syslog senders), the CA from the config, and
// this end's certificate and key. A key file readable by group or others is refused with an error
// that says how to fix it (chmod 600), as ssh does. Errors name the file and OpenSSL's reason.
//
// Immutable after creation, except for a server's revocation list, which assas-ingest replaces
// between handshakes (loop thread); shared by the sessions made from it.

#include <memory>

#include <openssl/ssl.h>

#include "base/status.h"
#include "transport/tls/tls_config.h"

namespace assas::transport {

// How a server context treats its clients. The native protocol uses the defaults; a listener for
// other senders (syslog over TLS from network equipment) may accept TLS 1.2 and clients without
// a certificate.
struct TlsServerPolicy {
  bool require_client_cert = true;  // false: a certificate is verified when sent, not required
  bool allow_tls12 = false;         // RFC 5425 senders often speak TLS 1.2 only
};

// How a client context treats its server and itself. The native protocol uses the defaults; the
// syslog and RELP outputs speak to receivers that may know only TLS 1.2 and may not ask for a
// client certificate. The server's certificate and name are verified in every case.
struct TlsClientPolicy {
  bool allow_tls12 = false;
  bool client_cert_optional = false;  // true: no certificate is presented when none is configured
};

class RevocationList;

// A file the TLS setup needs (role: "CA", "certificate", "key", "CRL"): present, a regular file,
// and, for a private key, readable by its owner only (the error says: chmod 600).
Status check_tls_file(const std::string& path, std::string_view role, bool is_private_key);

class TlsContext {
 public:
  // Client: verifies the server certificate against config.ca and its name (set per session).
  static Result<std::shared_ptr<TlsContext>> make_client(const TlsConfig& config,
                                                         TlsClientPolicy policy = {});
  // Server: requires and verifies a client certificate signed by config.ca (by default). config.ca
  // may be empty only when the policy does not require client certificates.
  static Result<std::shared_ptr<TlsContext>> make_server(const TlsConfig& config,
                                                         TlsServerPolicy policy = {});

  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // Server: verifies client certificates against ca_path's CAs and list's CRLs from the next
  // handshake on (the store of the handshakes before is replaced, not changed).
  Status use_revocation_list(const RevocationList& list, const std::string& ca_path);

  SSL_CTX* native() const { return ctx_; }
  bool is_server() const { return server_; }

 private:
  static Result<std::shared_ptr<TlsContext>> make(const TlsConfig& config, bool server,
                                                  TlsServerPolicy server_policy,
                                                  TlsClientPolicy client_policy);
  TlsContext(SSL_CTX* ctx, bool server) : ctx_(ctx), server_(server) {}
  SSL_CTX* ctx_;
  bool server_;
};

// The drained OpenSSL error queue as one message ("context: reason; reason"), after a failed call.
// Call ERR_clear_error() before the OpenSSL call whose failure you report.
Status openssl_status(StatusCode code, std::string_view context);

}  // namespace assas::transport
