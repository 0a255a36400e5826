#pragma once

// One attempt to reach a receiver and, if it works, the byte stream to it: resolve the endpoint,
// connect, and (with a TLS context) do the TLS handshake, verifying the server's certificate and
// name. Then it hands the owner the plaintext the receiver sends and carries what the owner sends;
// the protocol on top (native frames, syslog, RELP) is the owner's. It owns its handles and deletes
// itself once they are all closed, after telling the owner (on_connection_closed); the owner
// keeps only a non-owning pointer.
//
// Datagram mode (a connected UDP socket, for syslog to legacy collectors) has no handshake and no
// reads: each send() is one datagram.
//
// connect_timeout covers everything up to connected() (the owner calls it once its own protocol's
// opening is done). Loop thread only.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <uv.h>

#include "base/status.h"
#include "base/uv_util.h"
#include "transport/endpoint.h"
#include "transport/tls/tls_session.h"

namespace assas::transport {

enum class SocketKind { kStream, kDatagram };

struct ConnectParams {
  SocketKind kind = SocketKind::kStream;
  std::shared_ptr<TlsContext> tls;  // null: plain TCP (or UDP)
  std::string server_name;          // verified in the certificate and sent as SNI
  std::chrono::milliseconds connect_timeout{10000};
  // TCP_USER_TIMEOUT: data unacknowledged by the receiver's TCP this long drops the connection (a
  // receiver that is gone, not one that is slow: its zero-window probes are answered). 0: the
  // kernel's default (about 15 minutes of retransmissions).
  std::chrono::milliseconds user_timeout{0};
};

class ClientConnection {
 public:
  class Owner {
   public:
    virtual ~Owner() = default;
    // Connected, and the TLS handshake (if any) is complete: the owner may start its protocol.
    virtual void on_connection_ready(ClientConnection& connection) = 0;
    // Plaintext from the receiver, in order.
    virtual void on_connection_bytes(ClientConnection& connection, std::string_view bytes) = 0;
    // The attempt or session failed (kUnavailable when the receiver closed the connection); the
    // connection closes itself.
    virtual void on_connection_failed(ClientConnection& connection, const Status& why) = 0;
    // Every handle is closed; the connection is deleted right after this returns.
    virtual void on_connection_closed(ClientConnection& connection) = 0;
  };

  static ClientConnection* start(uv_loop_t* loop, Owner& owner, const Endpoint& endpoint,
                                 ConnectParams params);
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  void send(std::string_view bytes);
  // The session is established: stops the connect timer.
  void connected();
  // Idempotent. No on_connection_bytes or on_connection_failed after this.
  void close(const Status& why);

  const Endpoint& endpoint() const { return endpoint_; }
  // Bytes handed to the socket so far (after encryption); right after send(), the offset at which
  // that plaintext ends on the wire.
  uint64_t bytes_queued() const { return bytes_queued_; }
  // Of those, the bytes the receiver's TCP has acknowledged (stream) or the kernel has sent
  // (datagram). Without an application-level acknowledgement this is the most a sender can know.
  uint64_t bytes_delivered() const;

 private:
  ClientConnection(uv_loop_t* loop, Owner& owner, const Endpoint& endpoint, ConnectParams params);
  ~ClientConnection() = default;

  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* result) noexcept;
  static void on_connect(uv_connect_t* req, int status) noexcept;
  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) noexcept;
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void on_timer(uv_timer_t* timer) noexcept;

  void set_user_timeout();
  void connect_datagram(const sockaddr* address);
  void stream_connected();
  void handle_bytes(std::string_view ciphertext);
  void write(std::string bytes);
  void send_datagram(std::string_view bytes);
  void fail(const Status& why);
  void maybe_finish();
  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp_); }

  uv_loop_t* loop_;
  Owner& owner_;
  Endpoint endpoint_;
  ConnectParams params_;
  std::unique_ptr<TlsSession> tls_;
  uv_tcp_t tcp_{};
  uv_udp_t udp_{};
  uv_timer_t timer_{};
  uv_connect_t connect_req_{};
  uv_getaddrinfo_t* resolve_req_ = nullptr;  // owned by libuv until on_resolved
  bool socket_open_ = false;
  bool ready_ = false;
  bool closing_ = false;
  bool finished_ = false;
  Status deferred_error_;  // an error found in start(), reported from the timer
  uint64_t bytes_queued_ = 0;
  uint64_t datagram_bytes_sent_ = 0;
  std::string plaintext_;  // reused buffer for decrypted bytes
  char read_buffer_[65536];
  HandleCloser closer_;
};

}  // namespace assas::transport
