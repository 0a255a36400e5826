#include "transport/server/tls_server.h"

#include <algorithm>
#include <memory>
#include <unordered_set>

#include "base/log.h"
#include "base/uv_util.h"
#include "transport/endpoint.h"
#include "transport/server/server_connection.h"
#include "transport/tls/tls_context.h"

namespace assas::transport {
namespace {

class TlsServerImpl final : public TlsServer {
 public:
  TlsServerImpl(uv_loop_t* loop, TlsServerOptions options, std::vector<Endpoint> addresses,
                std::shared_ptr<TlsContext> tls, ConnectionAcceptor& acceptor)
      : loop_(loop),
        options_(std::move(options)),
        addresses_(std::move(addresses)),
        tls_(std::move(tls)),
        acceptor_(acceptor) {}

  ~TlsServerImpl() override {
    ASSAS_CHECK(listeners_.empty() || closed_, "TlsServer destroyed before close() completed");
  }

  Status start() override {
    for (const Endpoint& address : addresses_) {
      auto listener = std::make_unique<uv_tcp_t>();
      ASSAS_CHECK(uv_tcp_init(loop_, listener.get()) == 0, "tcp init cannot fail");
      listener->data = this;
      uv_tcp_t* handle = listener.get();
      listeners_.push_back(std::move(listener));
      Result<sockaddr_storage> addr = listen_sockaddr(address);
      if (!addr.is_ok()) {
        return addr.status();
      }
      int rc = uv_tcp_bind(handle, reinterpret_cast<const sockaddr*>(&*addr), 0);
      if (rc == 0) {
        rc = uv_listen(reinterpret_cast<uv_stream_t*>(handle), 511, &TlsServerImpl::on_accept);
      }
      if (rc != 0) {
        return uv_status(rc, "listen on " + address.to_string());
      }
    }
    return Status::ok();
  }

  std::vector<int> bound_ports() const override {
    std::vector<int> ports;
    for (const auto& listener : listeners_) {
      sockaddr_storage addr{};
      int len = sizeof addr;
      int port = 0;
      if (uv_tcp_getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
        port = port_of(reinterpret_cast<const sockaddr*>(&addr));
      }
      ports.push_back(port);
    }
    return ports;
  }

  void close(std::function<void()> on_closed) override {
    if (closing_) {
      return;
    }
    closing_ = true;
    on_closed_ = std::move(on_closed);
    for (auto& listener : listeners_) {
      closer_.close(listener.get());
    }
    // Copy: closing a connection may finish it (and erase it) later, never now, but keep the
    // iteration independent of that.
    std::vector<ServerConnection*> open(connections_.begin(), connections_.end());
    for (ServerConnection* c : open) {
      c->close(Status::ok());
    }
    closer_.when_closed([](void* self) { static_cast<TlsServerImpl*>(self)->maybe_closed(); },
                        this);
  }

 private:
  static void on_accept(uv_stream_t* listener, int status) noexcept {
    auto* self = static_cast<TlsServerImpl*>(listener->data);
    if (status < 0 || self->closing_) {
      if (status < 0) {
        ASSAS_LOG(kWarn, "accept failed", log::kv("error", uv_strerror(status)));
      }
      return;
    }
    ServerConnection* c = ServerConnection::accept(
        self->loop_, listener, self->tls_, self->options_, self->acceptor_,
        [self](ServerConnection* done) { self->on_connection_finished(done); });
    self->connections_.insert(c);
    if (self->connections_.size() > self->options_.max_connections) {
      ++self->refused_;
      if (self->refused_ == 1 || self->refused_ % 1000 == 0) {
        ASSAS_LOG(kWarn, "too many connections; refusing new ones",
                  log::kv("max_connections", self->options_.max_connections),
                  log::kv("refused_total", self->refused_));
      }
      c->close(resource_exhausted("too many connections"));
    }
  }

  void on_connection_finished(ServerConnection* c) {
    connections_.erase(c);
    delete c;
    maybe_closed();
  }

  void maybe_closed() {
    if (!closing_ || closed_ || !connections_.empty() || !closer_.idle() || !on_closed_) {
      return;
    }
    closed_ = true;
    auto done = std::move(on_closed_);
    done();
  }

  uv_loop_t* loop_;
  TlsServerOptions options_;
  std::vector<Endpoint> addresses_;
  std::shared_ptr<TlsContext> tls_;
  ConnectionAcceptor& acceptor_;
  std::vector<std::unique_ptr<uv_tcp_t>> listeners_;
  std::unordered_set<ServerConnection*> connections_;
  uint64_t refused_ = 0;
  bool closing_ = false;
  bool closed_ = false;
  std::function<void()> on_closed_;
  HandleCloser closer_;
};

}  // namespace

Result<std::unique_ptr<TlsServer>> TlsServer::create(uv_loop_t* loop, TlsServerOptions options,
                                                     ConnectionAcceptor& acceptor) {
  if (options.listen.empty()) {
    return invalid_argument("listen: give at least one address, e.g. [\"0.0.0.0:6514\"]");
  }
  std::vector<Endpoint> addresses;
  for (const std::string& text : options.listen) {
    Result<Endpoint> e = parse_endpoint(text, /*allow_port_zero=*/true);
    if (!e.is_ok()) {
      return e.status();
    }
    addresses.push_back(*e);
  }
  Result<std::shared_ptr<TlsContext>> tls = TlsContext::make_server(options.tls);
  if (!tls.is_ok()) {
    return tls.status().with_context("tls");
  }
  return std::unique_ptr<TlsServer>(new TlsServerImpl(
      loop, std::move(options), std::move(addresses), std::move(tls).value(), acceptor));
}

}  // namespace assas::transport
