#include "collectors/syslog/syslog_connection.h"

#include "base/log.h"
#include "transport/endpoint.h"

namespace assas::collectors {

namespace {

constexpr size_t kReadBytes = 64 << 10;

}  // namespace

SyslogConnection::SyslogConnection(SyslogIntake& intake, const agent::StreamPtr& stream,
                                   SyslogTransport transport, uint64_t max_message_bytes,
                                   OnFinished on_finished)
    : intake_(intake),
      stream_(stream),
      transport_(transport),
      framer_(max_message_bytes),
      on_finished_(std::move(on_finished)) {}

SyslogConnection* SyslogConnection::accept(uv_loop_t* loop, uv_stream_t* listener,
                                           SyslogIntake& intake, const agent::StreamPtr& stream,
                                           SyslogTransport transport,
                                           std::shared_ptr<transport::TlsContext> tls,
                                           uint64_t max_message_bytes,
                                           uint64_t handshake_timeout_ms, bool over_limit,
                                           OnFinished on_finished) {
  auto* c =
      new SyslogConnection(intake, stream, transport, max_message_bytes, std::move(on_finished));
  ASSAS_CHECK(uv_tcp_init(loop, &c->tcp_) == 0, "tcp init cannot fail");
  ASSAS_CHECK(uv_timer_init(loop, &c->timer_) == 0, "timer init cannot fail");
  c->tcp_.data = c;
  c->timer_.data = c;
  int rc = uv_accept(listener, reinterpret_cast<uv_stream_t*>(&c->tcp_));
  if (rc != 0) {
    c->close(uv_status(rc, "accept"));
    return c;
  }
  sockaddr_storage addr{};
  int len = sizeof addr;
  if (uv_tcp_getpeername(&c->tcp_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    c->close(unavailable("the sender is gone before its address was read"));
    return c;
  }
  const auto* peer = reinterpret_cast<const sockaddr*>(&addr);
  c->peer_ = transport::address_text(peer);
  c->sender_.ip = transport::ip_text(peer);
  if (!intake.allowed(peer)) {
    c->refuse(SyslogDrop::kNotAllowed, permission_denied("the sender is not in 'allow'"));
    return c;
  }
  if (over_limit) {
    c->refuse(SyslogDrop::kTooManyConnections, resource_exhausted("max_connections reached"));
    return c;
  }
  if (tls != nullptr) {
    Result<std::unique_ptr<transport::TlsSession>> session =
        transport::TlsSession::server(std::move(tls));
    if (!session.is_ok()) {
      c->close(session.status());
      return c;
    }
    c->tls_ = std::move(session).value();
    ASSAS_CHECK(
        uv_timer_start(&c->timer_, &SyslogConnection::on_timer, handshake_timeout_ms, 0) == 0,
        "timer start cannot fail");
  }
  c->counted_ = true;
  SyslogTransportStats& stats = intake.stats(transport);
  ++stats.connections_open;
  ++stats.connections_total;
  c->update_reading();
  return c;
}

void SyslogConnection::on_alloc(uv_handle_t* handle, size_t /*suggested*/, uv_buf_t* buf) noexcept {
  auto* self = static_cast<SyslogConnection*>(handle->data);
  self->read_buffer_.resize(kReadBytes);
  *buf = uv_buf_init(self->read_buffer_.data(), static_cast<unsigned>(kReadBytes));
}

void SyslogConnection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
  auto* self = static_cast<SyslogConnection*>(stream->data);
  if (nread == 0 || self->closing_) {
    return;
  }
  if (nread < 0) {
    if (nread != UV_EOF) {
      self->close(uv_status(static_cast<int>(nread), "read from " + self->peer_));
      return;
    }
    self->eof_ = true;
    self->set_reading(false);
    self->update_reading();
    return;
  }
  self->handle_bytes(std::string_view(buf->base, static_cast<size_t>(nread)));
}

void SyslogConnection::handle_bytes(std::string_view bytes) {
  if (tls_ != nullptr) {
    bool was_complete = tls_->handshake_complete();
    plaintext_.clear();
    Status s = tls_->receive(bytes, plaintext_);
    flush_tls();
    if (!s.is_ok() && !(s.code() == StatusCode::kUnavailable && tls_->handshake_complete())) {
      if (!tls_->handshake_complete()) {
        refuse(SyslogDrop::kTlsHandshake, s);
      } else {
        close(s);
      }
      return;
    }
    if (!was_complete && tls_->handshake_complete()) {
      uv_timer_stop(&timer_);
      sender_.tls_peer = tls_->peer_identity();
    }
    if (!s.is_ok()) {
      eof_ = true;  // close_notify: what came with it is the sender's last bytes
    }
    framer_.feed(plaintext_);
  } else {
    framer_.feed(bytes);
  }
  update_reading();
}

void SyslogConnection::flush_tls() {
  if (tls_ == nullptr || !tls_->has_output()) {
    return;
  }
  write_owned(reinterpret_cast<uv_stream_t*>(&tcp_), tls_->take_output(), this,
              [](void* owner, int rc) {
                auto* self = static_cast<SyslogConnection*>(owner);
                if (!self->closing_) {
                  self->close(uv_status(rc, "write to " + self->peer_));
                }
              });
}

bool SyslogConnection::offer(const SyslogMessage& message) {
  if (intake_.paused()) {
    return false;
  }
  uint64_t wait_ms = intake_.take_token(sender_);
  if (wait_ms != 0) {
    // Over the rate limit: TCP can wait, so this sender waits instead of losing messages.
    waiting_for_token_ = true;
    ASSAS_CHECK(uv_timer_start(&timer_, &SyslogConnection::on_timer, wait_ms, 0) == 0,
                "timer start cannot fail");
    return false;
  }
  return intake_.push(stream_, sender_, message, transport_);
}

bool SyslogConnection::deliver() {
  if (has_pending_) {
    if (!offer(SyslogMessage{pending_, pending_truncated_, pending_original_size_})) {
      return false;
    }
    has_pending_ = false;
  }
  SyslogFramer::Message m;
  while (framer_.next(m) || (eof_ && framer_.finish(m))) {
    SyslogMessage message{m.bytes, m.truncated, m.original_size};
    if (!offer(message)) {
      pending_.assign(m.bytes);
      pending_truncated_ = m.truncated;
      pending_original_size_ = m.original_size;
      has_pending_ = true;
      return false;
    }
  }
  return true;
}

void SyslogConnection::update_reading() {
  if (closing_) {
    return;
  }
  bool handshaking = tls_ != nullptr && !tls_->handshake_complete();
  if (!handshaking && (intake_.paused() || waiting_for_token_ || !deliver())) {
    set_reading(false);
    return;
  }
  if (eof_) {
    close(Status::ok());
    return;
  }
  set_reading(true);
}

void SyslogConnection::set_reading(bool on) {
  if (on == reading_ || closing_) {
    return;
  }
  if (!on) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
    reading_ = false;
    return;
  }
  int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), &SyslogConnection::on_alloc,
                         &SyslogConnection::on_read);
  if (rc != 0) {
    close(uv_status(rc, "read from " + peer_));
    return;
  }
  reading_ = true;
}

void SyslogConnection::on_timer(uv_timer_t* timer) noexcept {
  auto* self = static_cast<SyslogConnection*>(timer->data);
  if (self->tls_ != nullptr && !self->tls_->handshake_complete()) {
    self->refuse(SyslogDrop::kTlsHandshake,
                 unavailable("no TLS handshake within handshake_timeout"));
    return;
  }
  self->waiting_for_token_ = false;
  self->update_reading();
}

void SyslogConnection::refuse(SyslogDrop why, const Status& status) {
  intake_.count_drop(transport_, why);
  ASSAS_LOG(kDebug, "syslog connection refused", log::kv("peer", peer_),
            log::kv("reason", status.to_string()));
  close(Status::ok());
}

void SyslogConnection::close(const Status& why) {
  if (closing_) {
    return;
  }
  closing_ = true;
  size_t unread = framer_.buffered_bytes() + (has_pending_ ? pending_.size() : 0);
  if (!why.is_ok() || unread != 0) {
    // Plain syslog has no acknowledgement: what the agent read but could not hand to the
    // pipeline is lost with the connection, and the log says how much (RELP avoids this).
    ASSAS_LOG(kWarn, "closing syslog connection", log::kv("peer", peer_),
              log::kv("reason", why.is_ok() ? std::string("stopping") : why.to_string()),
              log::kv("unsent_bytes", static_cast<uint64_t>(unread)));
  }
  if (tls_ != nullptr && tls_->handshake_complete()) {
    tls_->shutdown();
    flush_tls();
  }
  uv_timer_stop(&timer_);
  closer_.close(&timer_);
  closer_.close(&tcp_);
  closer_.when_closed([](void* self) { static_cast<SyslogConnection*>(self)->finish(); }, this);
}

void SyslogConnection::finish() {
  if (counted_) {
    --intake_.stats(transport_).connections_open;
  }
  auto done = std::move(on_finished_);
  done(this);  // deletes this
}

}  // namespace assas::collectors
