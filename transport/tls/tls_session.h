#pragma once

// One TLS connection driven through memory BIOs, so that it never touches a socket and never
// blocks: the owner feeds it the bytes the socket delivered and writes out the bytes it produces.
// This is what lets OpenSSL run on the libuv loop.
//
//   receive(bytes from socket, plaintext)  → drives the handshake, appends decrypted bytes
//   send(plaintext)                        → encrypts (buffered until the handshake completes)
//   take_output()                          → the bytes to write to the socket now
//
// Not thread-safe; one owner.

#include <memory>
#include <string>
#include <string_view>

#include <openssl/ssl.h>

#include "base/status.h"
#include "transport/tls/tls_context.h"

namespace assas::transport {

class TlsSession {
 public:
  // server_name is verified against the server certificate (DNS SAN or IP SAN) and sent as SNI.
  static Result<std::unique_ptr<TlsSession>> client(std::shared_ptr<TlsContext> context,
                                                    const std::string& server_name);
  static Result<std::unique_ptr<TlsSession>> server(std::shared_ptr<TlsContext> context);

  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Feeds ciphertext from the peer; appends any decrypted application bytes to plaintext. Errors
  // are final: kPermissionDenied when verification failed (the message says why: expired, unknown
  // CA, wrong name, ...), kUnavailable when the peer closed, kCorruption otherwise.
  Status receive(std::string_view ciphertext, std::string& plaintext);
  // Queues application bytes for encryption.
  Status send(std::string_view plaintext);
  // Takes the ciphertext waiting to be written to the socket (may be empty).
  std::string take_output();
  bool has_output() const;

  // Starts the handshake (client side; a no-op on the server side).
  Status start();
  bool handshake_complete() const;
  // The verified peer's identity: its first DNS subjectAltName, else its subject CN.
  std::string peer_identity() const;
  // The verified peer's certificate (owned by the session), nullptr before the handshake.
  X509* peer_certificate() const;
  // Queues a close_notify alert (then take_output() and close the socket).
  void shutdown();

 private:
  static Result<std::unique_ptr<TlsSession>> create(std::shared_ptr<TlsContext> context);
  TlsSession(std::shared_ptr<TlsContext> context, SSL* ssl);
  Status drive_handshake();
  Status flush_pending_plaintext();

  std::shared_ptr<TlsContext> context_;
  SSL* ssl_;
  BIO* network_in_ = nullptr;      // we write received ciphertext here; owned by ssl_
  BIO* network_out_ = nullptr;     // we read ciphertext to send from here; owned by ssl_
  std::string pending_plaintext_;  // sent before the handshake completed
};

}  // namespace assas::transport
