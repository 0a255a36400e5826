#include "transport/server/server_connection.h"

#include "base/log.h"
#include "transport/endpoint.h"

namespace assas::transport {
namespace {

std::string address_of(uv_tcp_t* tcp) {
  sockaddr_storage addr{};
  int len = sizeof addr;
  if (uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return "unknown";
  }
  return address_text(reinterpret_cast<const sockaddr*>(&addr));
}

}  // namespace

ServerConnection::ServerConnection(uv_loop_t* loop, const TlsServerOptions& options,
                                   ConnectionAcceptor& acceptor, OnFinished on_finished)
    : loop_(loop),
      options_(options),
      acceptor_(acceptor),
      on_finished_(std::move(on_finished)),
      decoder_(options.max_frame_bytes) {}

ServerConnection* ServerConnection::accept(uv_loop_t* loop, uv_stream_t* listener,
                                           std::shared_ptr<TlsContext> tls,
                                           const TlsServerOptions& options,
                                           ConnectionAcceptor& acceptor, OnFinished on_finished) {
  auto* c = new ServerConnection(loop, options, acceptor, std::move(on_finished));
  ASSAS_CHECK(uv_tcp_init(loop, &c->tcp_) == 0, "tcp init cannot fail");
  ASSAS_CHECK(uv_timer_init(loop, &c->timer_) == 0, "timer init cannot fail");
  c->tcp_.data = c;
  c->timer_.data = c;
  int rc = uv_accept(listener, reinterpret_cast<uv_stream_t*>(&c->tcp_));
  if (rc != 0) {
    c->close(uv_status(rc, "accept"));
    return c;
  }
  c->address_ = address_of(&c->tcp_);
  Result<std::unique_ptr<TlsSession>> session = TlsSession::server(std::move(tls));
  if (!session.is_ok()) {
    c->close(session.status());
    return c;
  }
  c->tls_ = std::move(session).value();
  c->arm_timer(static_cast<uint64_t>(options.handshake_timeout.count()));
  rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp_), &ServerConnection::on_alloc,
                     &ServerConnection::on_read);
  if (rc != 0) {
    c->close(uv_status(rc, "read"));
  }
  return c;
}

void ServerConnection::arm_timer(uint64_t ms) {
  ASSAS_CHECK(uv_timer_start(&timer_, &ServerConnection::on_timer, ms, 0) == 0,
              "timer start cannot fail");
}

void ServerConnection::on_timer(uv_timer_t* timer) noexcept {
  auto* self = static_cast<ServerConnection*>(timer->data);
  self->close(unavailable(self->got_frame_ ? "no frame within the idle timeout"
                                           : "no TLS handshake and hello within the handshake "
                                             "timeout"));
}

void ServerConnection::on_alloc(uv_handle_t* handle, size_t /*suggested*/, uv_buf_t* buf) noexcept {
  auto* self = static_cast<ServerConnection*>(handle->data);
  *buf = uv_buf_init(self->read_buffer_, sizeof self->read_buffer_);
}

void ServerConnection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
  auto* self = static_cast<ServerConnection*>(stream->data);
  if (nread == 0 || self->closing_) {
    return;
  }
  if (nread < 0) {
    self->close(nread == UV_EOF ? self->peer_closed(unavailable("peer closed the connection"))
                                : uv_status(static_cast<int>(nread), "read"));
    return;
  }
  self->handle_bytes(std::string_view(buf->base, static_cast<size_t>(nread)));
}

void ServerConnection::handle_bytes(std::string_view ciphertext) {
  plaintext_.clear();
  Status s = tls_->receive(ciphertext, plaintext_);
  flush();
  if (!s.is_ok()) {
    // kUnavailable is the peer's close_notify. What it sent before is its last frames: they are
    // handled like any others (they used to be dropped), and then the log says whether the peer
    // stopped in the middle of one.
    if (s.code() == StatusCode::kUnavailable && handler_ != nullptr && !plaintext_.empty()) {
      decoder_.feed(plaintext_);
      deliver_frames();
    }
    close(s.code() == StatusCode::kUnavailable ? peer_closed(s) : s);
    return;
  }
  if (tls_->handshake_complete() && handler_ == nullptr) {
    identity_ = tls_->peer_identity();
    handler_ = acceptor_.on_connection(*this);
    if (handler_ == nullptr) {
      close(permission_denied("connection refused by the application"));
      return;
    }
  }
  if (!plaintext_.empty()) {
    decoder_.feed(plaintext_);
    deliver_frames();
  }
}

void ServerConnection::deliver_frames() {
  while (!closing_ && pause_count_ == 0 && handler_ != nullptr) {
    Result<std::optional<Frame>> frame = decoder_.next();
    if (!frame.is_ok()) {
      close(frame.status().with_context("bad frame"));
      return;
    }
    if (!frame->has_value()) {
      return;
    }
    got_frame_ = true;
    arm_timer(static_cast<uint64_t>(options_.idle_timeout.count()));
    handler_->on_frame(**frame);
  }
}

// A peer that closes with part of a frame unread cut it (a crash, a bug, a broken middlebox): the
// reason says so, with how much of it came, instead of only "closed".
Status ServerConnection::peer_closed(const Status& why) const {
  // Paused, what waits in the decoder may be whole frames.
  return pause_count_ > 0 ? why : decoder_.closed_mid_frame(why);
}

void ServerConnection::send(const Frame& frame) {
  if (closing_ || tls_ == nullptr) {
    return;
  }
  std::string bytes;
  encode_frame(frame, bytes);
  Status s = tls_->send(bytes);
  if (!s.is_ok()) {
    close(s);
    return;
  }
  flush();
}

void ServerConnection::flush() {
  if (tls_ == nullptr || !tls_->has_output()) {
    return;
  }
  write_owned(reinterpret_cast<uv_stream_t*>(&tcp_), tls_->take_output(), this,
              [](void* owner, int rc) {
                auto* self = static_cast<ServerConnection*>(owner);
                if (!self->closing_) {
                  self->close(uv_status(rc, "write"));
                }
              });
}

void ServerConnection::pause_reading() {
  if (pause_count_++ == 0 && !closing_) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
  }
}

void ServerConnection::resume_reading() {
  if (pause_count_ == 0 || --pause_count_ > 0 || closing_) {
    return;
  }
  int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), &ServerConnection::on_alloc,
                         &ServerConnection::on_read);
  if (rc != 0) {
    close(uv_status(rc, "read"));
    return;
  }
  deliver_frames();  // frames that arrived before the pause are still in the decoder
}

void ServerConnection::close(const Status& why) {
  if (closing_) {
    return;
  }
  // Closing first: a failure while telling the peer why (a reset connection) must not close
  // again, which would try to tell it again.
  closing_ = true;
  close_reason_ = why;
  if (!why.is_ok() && tls_ != nullptr && tls_->handshake_complete() && handler_ != nullptr) {
    std::string bytes;
    encode_frame(ErrorFrame{static_cast<uint16_t>(why.code()), why.message()}, bytes);
    if (tls_->send(bytes).is_ok()) {
      flush();
    }
  }
  if (!why.is_ok()) {
    ASSAS_LOG(kWarn, "closing connection", log::kv("peer", address_),
              log::kv("identity", identity_), log::kv("reason", why.to_string()));
  }
  if (tls_ != nullptr && tls_->handshake_complete()) {
    tls_->shutdown();
    flush();
  }
  uv_timer_stop(&timer_);
  closer_.close(&timer_);
  closer_.close(&tcp_);
  closer_.when_closed([](void* self) { static_cast<ServerConnection*>(self)->finish(); }, this);
}

void ServerConnection::finish() {
  if (handler_ != nullptr) {
    handler_->on_closed(close_reason_);
    handler_.reset();
  }
  auto done = std::move(on_finished_);
  done(this);  // deletes this
}

}  // namespace assas::transport
