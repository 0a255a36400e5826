#pragma once

// One accepted connection on the receiving side: TLS handshake with a mandatory client
// certificate, then frames for the application's ConnectionHandler. It owns its handles and is
// deleted by its TlsServer once they are closed.
//
// Timeouts: the TLS handshake and the first frame must arrive within handshake_timeout (a client
// that connects and sends nothing, or a byte a second, is dropped); after that any frame must
// arrive within idle_timeout (agents send pings when idle). Loop thread only.

#include <functional>
#include <memory>
#include <string>

#include <uv.h>

#include "base/uv_util.h"
#include "transport/protocol/frame_codec.h"
#include "transport/server/tls_server.h"
#include "transport/tls/tls_session.h"

namespace assas::transport {

class ServerConnection final : public PeerConnection {
 public:
  using OnFinished = std::function<void(ServerConnection*)>;

  // Takes the accepted client from listener. on_finished runs once everything is closed; the
  // callee deletes the connection.
  static ServerConnection* accept(uv_loop_t* loop, uv_stream_t* listener,
                                  std::shared_ptr<TlsContext> tls, const TlsServerOptions& options,
                                  ConnectionAcceptor& acceptor, OnFinished on_finished);
  ~ServerConnection() override = default;

  // PeerConnection
  const std::string& peer_identity() const override { return identity_; }
  const std::string& peer_address() const override { return address_; }
  // The client's certificate once the handshake is done, else nullptr.
  X509* peer_certificate() const override { return tls_ ? tls_->peer_certificate() : nullptr; }
  void send(const Frame& frame) override;
  void pause_reading() override;
  void resume_reading() override;
  void close(const Status& why) override;

 private:
  ServerConnection(uv_loop_t* loop, const TlsServerOptions& options, ConnectionAcceptor& acceptor,
                   OnFinished on_finished);

  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) noexcept;
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void on_timer(uv_timer_t* timer) noexcept;

  void handle_bytes(std::string_view ciphertext);
  void deliver_frames();
  Status peer_closed(const Status& why) const;
  void flush();
  void arm_timer(uint64_t ms);
  void finish();

  uv_loop_t* loop_;
  const TlsServerOptions& options_;
  ConnectionAcceptor& acceptor_;
  OnFinished on_finished_;
  std::unique_ptr<TlsSession> tls_;
  std::unique_ptr<ConnectionHandler> handler_;
  FrameDecoder decoder_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  std::string identity_;
  std::string address_;
  std::string plaintext_;
  Status close_reason_;
  int pause_count_ = 0;
  bool got_frame_ = false;
  bool closing_ = false;
  char read_buffer_[65536];
  HandleCloser closer_;
};

}  // namespace assas::transport
