#include "transport/client/client_connection.h"

#include <algorithm>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/sockios.h>

#include "base/log.h"

namespace assas::transport {
namespace {

// A datagram the kernel could not take at once: the request owns its bytes until the callback.
struct PendingDatagram {
  uv_udp_send_t req{};
  std::string bytes;
  uint64_t* sent_counter = nullptr;  // the connection's, alive until the handle's close callback
};

void on_datagram_sent(uv_udp_send_t* req, int status) noexcept {
  std::unique_ptr<PendingDatagram> datagram(static_cast<PendingDatagram*>(req->data));
  if (status == 0) {
    *datagram->sent_counter += datagram->bytes.size();
  }
}

}  // namespace

ClientConnection::ClientConnection(uv_loop_t* loop, Owner& owner, const Endpoint& endpoint,
                                   ConnectParams params)
    : loop_(loop), owner_(owner), endpoint_(endpoint), params_(std::move(params)) {}

ClientConnection* ClientConnection::start(uv_loop_t* loop, Owner& owner, const Endpoint& endpoint,
                                          ConnectParams params) {
  SocketKind kind = params.kind;
  std::chrono::milliseconds connect_timeout = params.connect_timeout;
  auto* c = new ClientConnection(loop, owner, endpoint, std::move(params));
  ASSAS_CHECK(uv_timer_init(loop, &c->timer_) == 0, "timer init cannot fail");
  c->timer_.data = c;
  auto* req = new uv_getaddrinfo_t{};
  req->data = c;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = kind == SocketKind::kStream ? SOCK_STREAM : SOCK_DGRAM;
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
  if (self->params_.kind == SocketKind::kDatagram) {
    self->connect_datagram(result->ai_addr);
    uv_freeaddrinfo(result);
    return;
  }
  ASSAS_CHECK(uv_tcp_init(self->loop_, &self->tcp_) == 0, "tcp init cannot fail");
  self->tcp_.data = self;
  self->socket_open_ = true;
  uv_tcp_nodelay(&self->tcp_, 1);
  self->connect_req_.data = self;
  int rc = uv_tcp_connect(&self->connect_req_, &self->tcp_, result->ai_addr,
                          &ClientConnection::on_connect);
  uv_freeaddrinfo(result);
  if (rc != 0) {
    self->fail(uv_status(rc, "connect " + self->endpoint_.to_string()));
  }
}

void ClientConnection::set_user_timeout() {
  if (params_.user_timeout.count() <= 0) {
    return;
  }
  // Keepalive finds a receiver that vanished while nothing was being sent; the user timeout one
  // that vanished with our data unacknowledged.
  auto seconds = static_cast<unsigned>(std::max<int64_t>(params_.user_timeout.count() / 3000, 1));
  uv_tcp_keepalive(&tcp_, 1, seconds);
  uv_os_fd_t fd = -1;
  auto ms = static_cast<unsigned>(params_.user_timeout.count());
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(&tcp_), &fd) == 0) {
    // Best effort: without it the kernel's own retransmission limit still applies.
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof ms);
  }
}

void ClientConnection::connect_datagram(const sockaddr* address) {
  ASSAS_CHECK(uv_udp_init(loop_, &udp_) == 0, "udp init cannot fail");
  udp_.data = this;
  socket_open_ = true;
  int rc = uv_udp_connect(&udp_, address);
  if (rc != 0) {
    fail(uv_status(rc, "connect udp " + endpoint_.to_string()));
    return;
  }
  ready_ = true;
  owner_.on_connection_ready(*this);
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
  self->stream_connected();
}

void ClientConnection::stream_connected() {
  set_user_timeout();
  int rc = uv_read_start(stream(), &ClientConnection::on_alloc, &ClientConnection::on_read);
  if (rc != 0) {
    fail(uv_status(rc, "read from " + endpoint_.to_string()));
    return;
  }
  if (params_.tls == nullptr) {
    ready_ = true;
    owner_.on_connection_ready(*this);
    return;
  }
  Result<std::unique_ptr<TlsSession>> tls = TlsSession::client(params_.tls, params_.server_name);
  if (!tls.is_ok()) {
    fail(tls.status());
    return;
  }
  tls_ = std::move(tls).value();
  Status s = tls_->start();
  if (!s.is_ok()) {
    fail(s);
    return;
  }
  if (tls_->has_output()) {
    write(tls_->take_output());  // the ClientHello
  }
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
    self->fail(nread == UV_EOF ? unavailable("receiver closed the connection")
                               : uv_status(static_cast<int>(nread), "read"));
    return;
  }
  std::string_view bytes(buf->base, static_cast<size_t>(nread));
  if (self->tls_ == nullptr) {
    self->owner_.on_connection_bytes(*self, bytes);
    return;
  }
  self->handle_bytes(bytes);
}

void ClientConnection::handle_bytes(std::string_view ciphertext) {
  plaintext_.clear();
  Status s = tls_->receive(ciphertext, plaintext_);
  if (tls_->has_output()) {
    write(tls_->take_output());  // handshake answers
  }
  if (!ready_ && s.is_ok() && tls_->handshake_complete()) {
    ready_ = true;
    owner_.on_connection_ready(*this);
    if (closing_) {
      return;
    }
  }
  // What the receiver sent before a close_notify is its last words (often why it closed): the
  // owner hears them before the failure, so that the log has the real reason.
  if (!plaintext_.empty() && (s.is_ok() || s.code() == StatusCode::kUnavailable)) {
    owner_.on_connection_bytes(*this, plaintext_);
  }
  if (!s.is_ok()) {
    fail(s);
  }
}

void ClientConnection::send(std::string_view bytes) {
  if (closing_ || !ready_) {
    return;
  }
  if (params_.kind == SocketKind::kDatagram) {
    send_datagram(bytes);
    return;
  }
  if (tls_ == nullptr) {
    write(std::string(bytes));
    return;
  }
  Status s = tls_->send(bytes);
  if (!s.is_ok()) {
    fail(s);
    return;
  }
  if (tls_->has_output()) {
    write(tls_->take_output());
  }
}

void ClientConnection::write(std::string bytes) {
  if (!socket_open_) {
    return;
  }
  bytes_queued_ += bytes.size();
  write_owned(stream(), std::move(bytes), this, [](void* owner, int rc) {
    auto* self = static_cast<ClientConnection*>(owner);
    if (!self->closing_) {
      self->fail(uv_status(rc, "write to " + self->endpoint_.to_string()));
    }
  });
}

void ClientConnection::send_datagram(std::string_view bytes) {
  bytes_queued_ += bytes.size();
  uv_buf_t buf = uv_buf_init(const_cast<char*>(bytes.data()), static_cast<unsigned>(bytes.size()));
  int rc = uv_udp_try_send(&udp_, &buf, 1, nullptr);
  if (rc >= 0) {
    datagram_bytes_sent_ += bytes.size();
    return;
  }
  if (rc != UV_EAGAIN) {
    // ECONNREFUSED: an ICMP port-unreachable came back for an earlier datagram.
    fail(uv_status(rc, "send to udp " + endpoint_.to_string()));
    return;
  }
  auto datagram = std::make_unique<PendingDatagram>();
  datagram->bytes.assign(bytes);
  datagram->sent_counter = &datagram_bytes_sent_;
  datagram->req.data = datagram.get();
  buf = uv_buf_init(datagram->bytes.data(), static_cast<unsigned>(datagram->bytes.size()));
  rc = uv_udp_send(&datagram->req, &udp_, &buf, 1, nullptr, &on_datagram_sent);
  if (rc != 0) {
    fail(uv_status(rc, "send to udp " + endpoint_.to_string()));
    return;
  }
  (void)datagram.release();  // freed by on_datagram_sent
}

uint64_t ClientConnection::bytes_delivered() const {
  if (params_.kind == SocketKind::kDatagram) {
    return datagram_bytes_sent_;
  }
  if (!socket_open_ || closing_) {
    return 0;
  }
  // Queued minus what libuv still holds minus what the kernel holds unacknowledged (SIOCOUTQ:
  // unsent plus sent-but-unacknowledged bytes of a TCP socket).
  uint64_t held = uv_stream_get_write_queue_size(reinterpret_cast<const uv_stream_t*>(&tcp_));
  uv_os_fd_t fd = -1;
  int in_kernel = 0;
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(&tcp_), &fd) != 0 ||
      ::ioctl(fd, SIOCOUTQ, &in_kernel) != 0) {
    return 0;  // unknown: nothing counts as delivered
  }
  held += static_cast<uint64_t>(in_kernel);
  return held > bytes_queued_ ? 0 : bytes_queued_ - held;
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
    if (tls_->has_output()) {
      write(tls_->take_output());
    }
  }
  if (resolve_req_ != nullptr) {
    uv_cancel(reinterpret_cast<uv_req_t*>(resolve_req_));  // its callback still comes
  }
  uv_timer_stop(&timer_);
  closer_.close(&timer_);
  if (socket_open_) {
    if (params_.kind == SocketKind::kDatagram) {
      closer_.close(&udp_);
    } else {
      closer_.close(&tcp_);
    }
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
