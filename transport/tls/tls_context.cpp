#include "transport/tls/tls_context.h"

#include <cerrno>
#include <cstdio>
#include <string>

#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "transport/tls/revocation_list.h"

namespace assas::transport {

Status check_tls_file(const std::string& path, std::string_view role, bool is_private_key) {
  if (path.empty()) {
    return invalid_argument(std::string(role) + " file is not configured");
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return not_found(std::string(role) + " file '" + path + "' not found");
    }
    return posix_status(std::string(role) + " file '" + path + "'", errno);
  }
  if (!S_ISREG(st.st_mode)) {
    return invalid_argument(std::string(role) + " '" + path + "' is not a regular file");
  }
  if (is_private_key && (st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return permission_denied("key file '" + path + "' is readable by group or others (mode " +
                             mode + "); run: chmod 600 " + path);
  }
  return Status::ok();
}

namespace {

// TLS 1.2 suites an output accepts from a syslog or RELP receiver: forward secrecy (ECDHE) and
// AEAD only, as Mozilla's "intermediate" profile (without DHE, which peers rarely need and which
// costs a lot). RSA key exchange, CBC with SHA-1 and every export or NULL suite are refused. TLS
// 1.3 suites are all strong and stay OpenSSL's. The syslog collector keeps OpenSSL's default
// (security level 2) for the network equipment that sends to it: docs/collectors/syslog.md.
constexpr const char* kClientTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

Status configure(SSL_CTX* ctx, const TlsConfig& config, bool server, TlsServerPolicy policy,
                 TlsClientPolicy client_policy) {
  bool need_ca = !server || policy.require_client_cert || !config.ca.empty();
  if (need_ca) {
    ASSAS_RETURN_IF_ERROR(check_tls_file(config.ca, "CA", false));
  }
  bool has_cert =
      server || !client_policy.client_cert_optional || !config.cert.empty() || !config.key.empty();
  if (has_cert) {
    ASSAS_RETURN_IF_ERROR(check_tls_file(config.cert, "certificate", false));
    ASSAS_RETURN_IF_ERROR(check_tls_file(config.key, "key", true));
  }
  ERR_clear_error();
  // Both ends are ours, so the native protocol speaks TLS 1.3 and nothing older.
  bool allow_tls12 = server ? policy.allow_tls12 : client_policy.allow_tls12;
  int min_version = allow_tls12 ? TLS1_2_VERSION : TLS1_3_VERSION;
  if (SSL_CTX_set_min_proto_version(ctx, min_version) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
    return openssl_status(StatusCode::kInternal, "cannot restrict the TLS versions");
  }
  if (!server && allow_tls12 && SSL_CTX_set_cipher_list(ctx, kClientTls12Ciphers) != 1) {
    return openssl_status(StatusCode::kInternal, "cannot restrict the TLS 1.2 cipher suites");
  }
  if (need_ca && SSL_CTX_load_verify_locations(ctx, config.ca.c_str(), nullptr) != 1) {
    return openssl_status(StatusCode::kInvalidArgument, "CA file '" + config.ca + "'");
  }
  if (has_cert && SSL_CTX_use_certificate_chain_file(ctx, config.cert.c_str()) != 1) {
    return openssl_status(StatusCode::kInvalidArgument, "certificate file '" + config.cert + "'");
  }
  if (has_cert && SSL_CTX_use_PrivateKey_file(ctx, config.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return openssl_status(StatusCode::kInvalidArgument, "key file '" + config.key + "'");
  }
  if (has_cert && SSL_CTX_check_private_key(ctx) != 1) {
    return openssl_status(
        StatusCode::kInvalidArgument,
        "key file '" + config.key + "' does not match certificate '" + config.cert + "'");
  }
  // Verification is always on: there is deliberately no option to turn it off. The one context
  // without a CA is a server that asks no client certificate (a syslog listener for devices that
  // have none); it is left at OpenSSL's server default, which requests none.
  if (need_ca) {
    int mode = SSL_VERIFY_PEER;
    if (server && policy.require_client_cert) {
      mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    }
    SSL_CTX_set_verify(ctx, mode, nullptr);
  }
  // The peer's certificate must be meant for its role: a server certificate cannot log in as an
  // agent, and an agent certificate cannot pose as the SOC.
  if (SSL_CTX_set_purpose(ctx, server ? X509_PURPOSE_SSL_CLIENT : X509_PURPOSE_SSL_SERVER) != 1) {
    return openssl_status(StatusCode::kInternal, "cannot set the certificate purpose");
  }
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (server) {
    SSL_CTX_set_num_tickets(ctx, 0);  // no resumption: every connection proves its certificate
  }
  return Status::ok();
}

}  // namespace

Result<std::shared_ptr<TlsContext>> TlsContext::make(const TlsConfig& config, bool server,
                                                     TlsServerPolicy server_policy,
                                                     TlsClientPolicy client_policy) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (ctx == nullptr) {
    return openssl_status(StatusCode::kResourceExhausted, "cannot create a TLS context");
  }
  Status s = configure(ctx, config, server, server_policy, client_policy);
  if (!s.is_ok()) {
    SSL_CTX_free(ctx);
    return s;
  }
  return std::shared_ptr<TlsContext>(new TlsContext(ctx, server));
}

Status openssl_status(StatusCode code, std::string_view context) {
  std::string message(context);
  bool first = true;
  for (unsigned long err = ERR_get_error(); err != 0; err = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(err, text, sizeof text);
    message += first ? ": " : "; ";
    // Keep only the reason, e.g. "certificate verify failed", not OpenSSL's error-code prefix.
    const char* reason = ERR_reason_error_string(err);
    message += reason != nullptr ? reason : text;
    first = false;
  }
  return {code, std::move(message)};
}

Result<std::shared_ptr<TlsContext>> TlsContext::make_client(const TlsConfig& config,
                                                            TlsClientPolicy policy) {
  return make(config, false, {}, policy);
}

Result<std::shared_ptr<TlsContext>> TlsContext::make_server(const TlsConfig& config,
                                                            TlsServerPolicy policy) {
  return make(config, true, policy, {});
}

Status TlsContext::use_revocation_list(const RevocationList& list, const std::string& ca_path) {
  Result<X509_STORE*> store = list.make_store(ca_path);
  if (!store.is_ok()) {
    return store.status();
  }
  SSL_CTX_set_cert_store(ctx_, *store);  // frees the previous store
  return Status::ok();
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

}  // namespace assas::transport
