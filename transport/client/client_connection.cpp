#include "transport/client/client_connection.h"

#include <cstring>

#include "base/log.h"

namespace assas::transport {

ClientConnection::ClientConnection(uv_loop_t* loop, Owner& owner, const Endpoint& endpoint,
                                   std::shared_ptr<TlsContext> tls, std::string server_name,
                                   HelloFrame hello, uint32_t max_frame_bytes)
    : loop_(loop),
      owner_(owner),
      endpoint_(endpoint),
      tls_context_(std::move(tls)),
      server_name_(std::move(server_name)),
      hello_(std::move(hello)),
      decoder_(max_frame_bytes) {}

ClientConnection* ClientConnection::start(uv_loop_t* loop, Owner& owner, const Endpoint& endpoint,
                                          std::shared_ptr<TlsContext> tls,
                                          const std::string& server_name, const HelloFrame& hello,
                                          uint32_t max_frame_bytes,
                                          std::chrono::milliseconds connect_timeout) {
  auto* c = new ClientConnection(loop, owner, endpoint, std::move(tls), server_name, hello,
                                 max_frame_bytes);
  ASSAS_CHECK(uv_timer_init(loop, &c->timer_) == 0, "timer init cannot fail");
  c->timer_.data = c;
  auto* req = new uv_getaddrinfo_t{};
  req->data = c;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  std::string port = std::to_string(endpoint.port);
  int rc = uv_getaddrinfo(loop, req, &ClientConnection::on_resolved, endpoint.host.c_str(),
                          port.c_str(), &hints);
  uint64_t timeout = static_cast<uint64_t>(connect_timeout.count());
  if (rc != 0) {
    delete req;
    // Reported from the timer, so that the owner already holds the pointer when it hears of it.
    c->deferred_error_ = uv_status(rc, "resolve '" + endpoint.host + "'");
    timeout = 0;
  } else {
    c->resolve_req_ = req;
  }
  ASSAS_CHECK(uv_timer_start(&c->timer_, &ClientConnection::on_timer, timeout, 0) == 0,
              "timer start cannot fail");
  return c;
}

void ClientConnection::on_timer(uv_timer_t* timer) noexcept {
  auto* self = static_cast<ClientConnection*>(timer->data);
  if (!self->deferred_error_.is_ok()) {
    self->fail(self->deferred_error_);
    return;
  }
  self->fail(unavailable("no session with " + self->endpoint_.to_string() +
                         " within the connect timeout"));
}

void ClientConnection::on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* result) noexcept {
  auto* self = static_cast<ClientConnection*>(req->data);
  delete req;
  self->resolve_req_ = nullptr;
  if (self->closing_) {
    uv_freeaddrinfo(result);
    self->maybe_finish();
    return;
  }
  if (status < 0 || result == nullptr) {
    uv_freeaddrinfo(result);
    self->fail(uv_status(status, "resolve '" + self->endpoint_.host + "'"));
    return;
  }
  ASSAS_CHECK(uv_tcp_init(self->loop_, &self->tcp_) == 0, "tcp init cannot fail");
  self->tcp_.data = self;
  self->tcp_open_ = true;
  uv_tcp_nodelay(&self->tcp_, 1);
  self->connect_req_.data = self;
  int rc = uv_tcp_connect(&self->connect_req_, &self->tcp_, result->ai_addr,
                          &ClientConnection::on_connect);
  uv_freeaddrinfo(result);
  if (rc != 0) {
    self->fail(uv_status(rc, "connect " + self->endpoint_.to_string()));
  }
}

void ClientConnection::on_connect(uv_connect_t* req, int status) noexcept {
  auto* self = static_cast<ClientConnection*>(req->data);
  if (self->closing_) {
    return;  // status is UV_ECANCELED; the close is under way
  }
  if (status < 0) {
    self->fail(uv_status(status, "connect " + self->endpoint_.to_string()));
    return;
  }
  Result<std::unique_ptr<TlsSession>> tls =
      TlsSession::client(self->tls_context_, self->server_name_);
  if (!tls.is_ok()) {
    self->fail(tls.status());
    return;
  }
  self->tls_ = std::move(tls).value();
  int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&self->tcp_), &ClientConnection::on_alloc,
                         &ClientConnection::on_read);
  if (rc != 0) {
    self->fail(uv_status(rc, "read from " + self->endpoint_.to_string()));
    return;
  }
  Status s = self->tls_->start();
  if (!s.is_ok()) {
    self->fail(s);
    return;
  }
  self->send_frame(self->hello_);  // held by the session until the handshake completes
}

void ClientConnection::on_alloc(uv_handle_t* handle, size_t /*suggested*/, uv_buf_t* buf) noexcept {
  auto* self = static_cast<ClientConnection*>(handle->data);
  *buf = uv_buf_init(self->read_buffer_, sizeof self->read_buffer_);
}

void ClientConnection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
  auto* self = static_cast<ClientConnection*>(stream->data);
  if (nread == 0 || self->closing_) {
    return;
  }
  if (nread < 0) {
    self->fail(nread == UV_EOF
                   ? self->decoder_.closed_mid_frame(unavailable("receiver closed the connection"))
                   : uv_status(static_cast<int>(nread), "read"));
    return;
  }
  self->handle_bytes(std::string_view(buf->base, static_cast<size_t>(nread)));
}

void ClientConnection::handle_bytes(std::string_view ciphertext) {
  plaintext_.clear();
  Status s = tls_->receive(ciphertext, plaintext_);
  flush();  // handshake answers, and whatever was queued behind the handshake
  if (!s.is_ok()) {
    // kUnavailable is the receiver's close_notify. What it sent before is its last frames (often
    // an error frame saying why): they are handled first, so that the log has the real reason.
    if (s.code() == StatusCode::kUnavailable && !plaintext_.empty()) {
      decoder_.feed(plaintext_);
      deliver_frames();
    }
    fail(s.code() == StatusCode::kUnavailable ? decoder_.closed_mid_frame(s) : s);
    return;
  }
  if (!plaintext_.empty()) {
    decoder_.feed(plaintext_);
    deliver_frames();
  }
}

void ClientConnection::deliver_frames() {
  while (!closing_) {
    Result<std::optional<Frame>> frame = decoder_.next();
    if (!frame.is_ok()) {
      fail(frame.status().with_context("bad frame from receiver"));
      return;
    }
    if (!frame->has_value()) {
      return;
    }
    owner_.on_frame(*this, **frame);
  }
}

void ClientConnection::send_frame(const Frame& frame) {
  std::string bytes;
  encode_frame(frame, bytes);
  send_plaintext(bytes);
}

void ClientConnection::send_plaintext(std::string_view bytes) {
  if (closing_ || tls_ == nullptr) {
    return;
  }
  Status s = tls_->send(bytes);
  if (!s.is_ok()) {
    fail(s);
    return;
  }
  flush();
}

void ClientConnection::flush() {
  if (!tcp_open_ || tls_ == nullptr || !tls_->has_output()) {
    return;
  }
  write_owned(reinterpret_cast<uv_stream_t*>(&tcp_), tls_->take_output(), this,
              [](void* owner, int rc) {
                auto* self = static_cast<ClientConnection*>(owner);
                if (!self->closing_) {
                  self->fail(uv_status(rc, "write to " + self->endpoint_.to_string()));
                }
              });
}

void ClientConnection::connected() {
  uv_timer_stop(&timer_);
}

void ClientConnection::fail(const Status& why) {
  if (closing_) {
    return;
  }
  owner_.on_connection_failed(*this, why);
  close(why);
}

void ClientConnection::close(const Status& /*why*/) {
  if (closing_) {
    return;
  }
  closing_ = true;
  if (tls_ != nullptr && tls_->handshake_complete()) {
    // Best effort close_notify; uv_close below cancels the write if it cannot go out at once.
    tls_->shutdown();
    flush();
  }
  if (resolve_req_ != nullptr) {
    uv_cancel(reinterpret_cast<uv_req_t*>(resolve_req_));  // its callback still comes
  }
  uv_timer_stop(&timer_);
  closer_.close(&timer_);
  if (tcp_open_) {
    closer_.close(&tcp_);
  }
  closer_.when_closed([](void* self) { static_cast<ClientConnection*>(self)->maybe_finish(); },
                      this);
}

void ClientConnection::maybe_finish() {
  if (!closing_ || finished_ || resolve_req_ != nullptr || !closer_.idle()) {
    return;
  }
  finished_ = true;
  owner_.on_connection_closed(*this);
  delete this;
}

}  // namespace assas::transport
