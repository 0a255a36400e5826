#include "transport/tls/tls_session.h"

#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

namespace assas::transport {
namespace {

bool is_ip_literal(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

// Printable ASCII only: an identity becomes a directory name and a log field at the receiver.
std::string printable(const unsigned char* data, int length) {
  std::string out;
  for (int i = 0; i < length; ++i) {
    unsigned char c = data[i];
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  return out;
}

}  // namespace

TlsSession::TlsSession(std::shared_ptr<TlsContext> context, SSL* ssl)
    : context_(std::move(context)), ssl_(ssl) {}

TlsSession::~TlsSession() {
  SSL_free(ssl_);
}  // frees both BIOs too

Result<std::unique_ptr<TlsSession>> TlsSession::create(std::shared_ptr<TlsContext> context) {
  ERR_clear_error();
  SSL* ssl = SSL_new(context->native());
  if (ssl == nullptr) {
    return openssl_status(StatusCode::kResourceExhausted, "cannot create a TLS session");
  }
  std::unique_ptr<TlsSession> session(new TlsSession(std::move(context), ssl));
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  if (in == nullptr || out == nullptr) {
    BIO_free(in);
    BIO_free(out);
    return resource_exhausted("cannot allocate TLS buffers");
  }
  SSL_set_bio(ssl, in, out);  // ssl owns both from here
  session->network_in_ = in;
  session->network_out_ = out;
  return session;
}

Result<std::unique_ptr<TlsSession>> TlsSession::client(std::shared_ptr<TlsContext> context,
                                                       const std::string& server_name) {
  if (server_name.empty()) {
    return invalid_argument("a TLS client needs the server name to verify");
  }
  Result<std::unique_ptr<TlsSession>> session = create(std::move(context));
  if (!session.is_ok()) {
    return session;
  }
  SSL* ssl = (*session)->ssl_;
  SSL_set_connect_state(ssl);
  if (is_ip_literal(server_name)) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server_name.c_str()) != 1) {
      return openssl_status(StatusCode::kInvalidArgument, "server address '" + server_name + "'");
    }
    return session;
  }
  // SSL_set_tlsext_host_name is a macro with a C cast; this is what it expands to.
  if (SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(server_name.c_str())) != 1 ||
      SSL_set1_host(ssl, server_name.c_str()) != 1) {
    return openssl_status(StatusCode::kInvalidArgument, "server name '" + server_name + "'");
  }
  return session;
}

Result<std::unique_ptr<TlsSession>> TlsSession::server(std::shared_ptr<TlsContext> context) {
  Result<std::unique_ptr<TlsSession>> session = create(std::move(context));
  if (session.is_ok()) {
    SSL_set_accept_state((*session)->ssl_);
  }
  return session;
}

Status TlsSession::start() {
  if (SSL_is_server(ssl_) != 0) {
    return Status::ok();
  }
  return drive_handshake();
}

bool TlsSession::handshake_complete() const {
  return SSL_is_init_finished(ssl_) != 0;
}

// Converts the outcome of an SSL_* call into a Status. WANT_READ/WANT_WRITE only mean "feed me
// more bytes" with memory BIOs, so they are not errors.
Status TlsSession::drive_handshake() {
  ERR_clear_error();
  int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    return flush_pending_plaintext();
  }
  int err = SSL_get_error(ssl_, rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    return Status::ok();
  }
  long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK) {
    ERR_clear_error();
    return permission_denied(std::string("TLS peer certificate refused: ") +
                             X509_verify_cert_error_string(verify));
  }
  if (err == SSL_ERROR_ZERO_RETURN) {
    return unavailable("TLS peer closed the connection during the handshake");
  }
  return openssl_status(StatusCode::kPermissionDenied, "TLS handshake failed");
}

Status TlsSession::flush_pending_plaintext() {
  if (pending_plaintext_.empty()) {
    return Status::ok();
  }
  std::string pending = std::move(pending_plaintext_);
  pending_plaintext_.clear();
  return send(pending);
}

Status TlsSession::receive(std::string_view ciphertext, std::string& plaintext) {
  while (!ciphertext.empty()) {
    int n = BIO_write(network_in_, ciphertext.data(),
                      static_cast<int>(std::min<size_t>(ciphertext.size(), 1 << 30)));
    if (n <= 0) {
      return resource_exhausted("cannot buffer received TLS bytes");
    }
    ciphertext.remove_prefix(static_cast<size_t>(n));
  }
  if (!handshake_complete()) {
    ASSAS_RETURN_IF_ERROR(drive_handshake());
    if (!handshake_complete()) {
      return Status::ok();
    }
  }
  char buf[16384];
  for (;;) {
    ERR_clear_error();
    int n = SSL_read(ssl_, buf, sizeof buf);
    if (n > 0) {
      plaintext.append(buf, static_cast<size_t>(n));
      continue;
    }
    int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      return Status::ok();
    }
    if (err == SSL_ERROR_ZERO_RETURN) {
      return unavailable("TLS peer closed the connection");
    }
    // A TLS 1.3 server verifies the client certificate after the client thinks the handshake is
    // done; its refusal arrives here as an alert, and OpenSSL's reason says which.
    return openssl_status(StatusCode::kPermissionDenied, "TLS connection failed");
  }
}

Status TlsSession::send(std::string_view plaintext) {
  if (!handshake_complete()) {
    pending_plaintext_.append(plaintext);
    return Status::ok();
  }
  while (!plaintext.empty()) {
    ERR_clear_error();
    int n = SSL_write(ssl_, plaintext.data(),
                      static_cast<int>(std::min<size_t>(plaintext.size(), 1 << 30)));
    if (n <= 0) {
      return openssl_status(StatusCode::kUnavailable, "TLS write failed");
    }
    plaintext.remove_prefix(static_cast<size_t>(n));
  }
  return Status::ok();
}

bool TlsSession::has_output() const {
  return BIO_ctrl_pending(network_out_) > 0;
}

std::string TlsSession::take_output() {
  std::string out;
  size_t pending = BIO_ctrl_pending(network_out_);
  if (pending == 0) {
    return out;
  }
  out.resize(pending);
  int n = BIO_read(network_out_, out.data(), static_cast<int>(pending));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

X509* TlsSession::peer_certificate() const {
  return SSL_get0_peer_certificate(ssl_);
}

std::string TlsSession::peer_identity() const {
  X509* cert = SSL_get0_peer_certificate(ssl_);
  if (cert == nullptr) {
    return {};
  }
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  std::string identity;
  if (names != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names) && identity.empty(); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
      if (name->type == GEN_DNS) {
        identity =
            printable(ASN1_STRING_get0_data(name->d.dNSName), ASN1_STRING_length(name->d.dNSName));
      }
    }
    GENERAL_NAMES_free(names);
  }
  if (identity.empty()) {
    X509_NAME* subject = X509_get_subject_name(cert);
    int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (index >= 0) {
      ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
      identity = printable(ASN1_STRING_get0_data(cn), ASN1_STRING_length(cn));
    }
  }
  return identity;
}

void TlsSession::shutdown() {
  ERR_clear_error();
  (void)SSL_shutdown(ssl_);  // queues close_notify; the answer does not matter, we close anyway
  ERR_clear_error();
}

}  // namespace assas::transport
