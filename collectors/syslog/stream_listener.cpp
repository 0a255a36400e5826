#include "collectors/syslog/stream_listener.h"

#include "base/log.h"

namespace assas::collectors {

StreamListener::StreamListener(uv_loop_t* loop, SyslogIntake& intake,
                               const SyslogCollectorConfig& config,
                               const transport::Endpoint& address, SyslogTransport transport,
                               std::shared_ptr<transport::TlsContext> tls,
                               uint32_t& open_connections)
    : loop_(loop),
      intake_(intake),
      config_(config),
      address_(address),
      transport_(transport),
      tls_(std::move(tls)),
      open_connections_(open_connections) {
  stream_ = listener_stream(config, transport, address);
  ASSAS_CHECK(uv_tcp_init(loop_, &tcp_) == 0, "tcp init cannot fail");
  tcp_.data = this;
}

StreamListener::~StreamListener() {
  ASSAS_CHECK(closed_, "StreamListener destroyed before close() completed");
}

Status StreamListener::start() {
  Result<sockaddr_storage> addr = transport::listen_sockaddr(address_);
  if (!addr.is_ok()) {
    return addr.status();
  }
  int rc = uv_tcp_bind(&tcp_, reinterpret_cast<const sockaddr*>(&*addr), 0);
  if (rc == 0) {
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(&tcp_), 511, &StreamListener::on_accept);
  }
  if (rc != 0) {
    return uv_status(
        rc, "listen on " + std::string(transport_name(transport_)) + " " + address_.to_string());
  }
  return Status::ok();
}

int StreamListener::bound_port() const {
  sockaddr_storage addr{};
  int len = sizeof addr;
  if (uv_tcp_getsockname(&tcp_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return 0;
  }
  return transport::port_of(reinterpret_cast<const sockaddr*>(&addr));
}

void StreamListener::on_accept(uv_stream_t* server, int status) noexcept {
  auto* self = static_cast<StreamListener*>(server->data);
  if (status < 0) {
    ASSAS_LOG(kWarn, "accept failed", log::kv("address", self->address_.to_string()),
              log::kv("error", uv_strerror(status)));
    return;
  }
  if (self->closing_) {
    return;
  }
  bool over_limit = self->open_connections_ >= self->config_.max_connections;
  SyslogConnection* c =
      SyslogConnection::accept(self->loop_, server, self->intake_, self->stream_, self->transport_,
                               self->transport_ == SyslogTransport::kTls ? self->tls_ : nullptr,
                               self->config_.max_message_bytes,
                               static_cast<uint64_t>(self->config_.handshake_timeout.count()),
                               over_limit, [self](SyslogConnection* done) {
                                 if (done->counted()) {
                                   --self->open_connections_;
                                 }
                                 self->connections_.erase(done);
                                 delete done;
                                 self->maybe_finish_close();
                               });
  self->connections_.insert(c);
  if (c->counted()) {
    ++self->open_connections_;
  }
}

void StreamListener::update_reading() {
  // A copy: a connection may finish (and leave the set) while it delivers.
  std::set<SyslogConnection*> connections = connections_;
  for (SyslogConnection* c : connections) {
    if (connections_.count(c) != 0) {
      c->update_reading();
    }
  }
}

void StreamListener::close(std::function<void()> on_closed) {
  closing_ = true;
  on_closed_ = std::move(on_closed);
  closer_.close(&tcp_);
  closer_.when_closed(
      [](void* owner) {
        auto* self = static_cast<StreamListener*>(owner);
        self->listener_closed_ = true;
        self->maybe_finish_close();
      },
      this);
  std::set<SyslogConnection*> connections = connections_;
  for (SyslogConnection* c : connections) {
    c->close(Status::ok());
  }
}

void StreamListener::maybe_finish_close() {
  if (!closing_ || !listener_closed_ || !connections_.empty() || closed_) {
    return;
  }
  closed_ = true;
  if (on_closed_) {
    on_closed_();
  }
}

}  // namespace assas::collectors
