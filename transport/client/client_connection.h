#pragma once

// One attempt to reach a receiver and, if it works, the session over it: resolve the endpoint,
// TCP connect, TLS handshake (verifying the server's certificate and name), send the hello, then
// decode frames for the owner and encrypt what the owner sends. It owns its handles and deletes
// itself once they are all closed, after telling the owner (on_connection_closed); the owner
// keeps only a non-owning pointer.
//
// connect_timeout covers everything up to connected() (the owner calls it on hello_ok).
// Loop thread only.

#include <chrono>
#include <memory>
#include <string>

#include <uv.h>

#include "base/status.h"
#include "base/uv_util.h"
#include "transport/endpoint.h"
#include "transport/protocol/frame_codec.h"
#include "transport/tls/tls_session.h"

namespace assas::transport {

class ClientConnection {
 public:
  class Owner {
   public:
    virtual ~Owner() = default;
    virtual void on_frame(ClientConnection& connection, const Frame& frame) = 0;
    // The attempt or session failed; the owner should close() it (it also closes itself).
    virtual void on_connection_failed(ClientConnection& connection, const Status& why) = 0;
    // Every handle is closed; the connection is deleted right after this returns.
    virtual void on_connection_closed(ClientConnection& connection) = 0;
  };

  static ClientConnection* start(uv_loop_t* loop, Owner& owner, const Endpoint& endpoint,
                                 std::shared_ptr<TlsContext> tls, const std::string& server_name,
                                 const HelloFrame& hello, uint32_t max_frame_bytes,
                                 std::chrono::milliseconds connect_timeout);
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  void send_frame(const Frame& frame);
  void send_plaintext(std::string_view bytes);
  // The session is established: stops the connect timer.
  void connected();
  // Idempotent. No on_frame or on_connection_failed after this.
  void close(const Status& why);

 private:
  ClientConnection(uv_loop_t* loop, Owner& owner, const Endpoint& endpoint,
                   std::shared_ptr<TlsContext> tls, std::string server_name, HelloFrame hello,
                   uint32_t max_frame_bytes);
  ~ClientConnection() = default;

  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* result) noexcept;
  static void on_connect(uv_connect_t* req, int status) noexcept;
  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) noexcept;
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void on_timer(uv_timer_t* timer) noexcept;

  void handle_bytes(std::string_view ciphertext);
  void deliver_frames();
  void flush();
  void fail(const Status& why);
  void maybe_finish();

  uv_loop_t* loop_;
  Owner& owner_;
  Endpoint endpoint_;
  std::shared_ptr<TlsContext> tls_context_;
  std::string server_name_;
  HelloFrame hello_;
  std::unique_ptr<TlsSession> tls_;
  FrameDecoder decoder_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  uv_connect_t connect_req_{};
  uv_getaddrinfo_t* resolve_req_ = nullptr;  // owned by libuv until on_resolved
  bool tcp_open_ = false;
  bool closing_ = false;
  bool finished_ = false;
  Status deferred_error_;  // an error found in start(), reported from the timer
  std::string plaintext_;  // reused buffer for decrypted bytes
  char read_buffer_[65536];
  HandleCloser closer_;
};

}  // namespace assas::transport
