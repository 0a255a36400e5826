#include "transport/server/tls_server.h"

#include <algorithm>
#include <memory>
#include <unordered_set>

#include "base/log.h"
#include "base/realtime.h"
#include "base/uv_util.h"
#include "transport/endpoint.h"
#include "transport/server/server_connection.h"
#include "transport/tls/revocation_list.h"
#include "transport/tls/tls_context.h"

namespace assas::transport {
namespace {

// One line per list loaded, and a loud one if it is out of date: past its nextUpdate OpenSSL
// refuses every agent until a newer list is published (failing closed, as a SOC wants).
void log_revocation_list(const RevocationList& list, const std::string& path, const char* what) {
  ASSAS_LOG(kInfo, what, log::kv("crl", path), log::kv("revoked", list.revoked_count()));
  if (list.next_update() != 0 && list.next_update() < realtime_ns() / 1000000000) {
    ASSAS_LOG(kError,
              "the revocation list is past its next update; every agent is refused until a newer "
              "one is published",
              log::kv("crl", path), log::kv("next_update", list.next_update()));
  }
}

class TlsServerImpl final : public TlsServer {
 public:
  TlsServerImpl(uv_loop_t* loop, TlsServerOptions options, std::vector<Endpoint> addresses,
                std::shared_ptr<TlsContext> tls, std::shared_ptr<const RevocationList> revoked,
                ConnectionAcceptor& acceptor)
      : loop_(loop),
        options_(std::move(options)),
        addresses_(std::move(addresses)),
        tls_(std::move(tls)),
        revoked_(std::move(revoked)),
        acceptor_(acceptor) {}

  ~TlsServerImpl() override {
    ASSAS_CHECK(listeners_.empty() || closed_, "TlsServer destroyed before close() completed");
  }

  Status start() override {
    if (!options_.crl.empty()) {
      ASSAS_CHECK(uv_fs_poll_init(loop_, &crl_poll_) == 0, "fs_poll init cannot fail");
      crl_poll_.data = this;
      crl_poll_open_ = true;
      int rc = uv_fs_poll_start(&crl_poll_, &TlsServerImpl::on_crl_changed, options_.crl.c_str(),
                                static_cast<unsigned>(options_.crl_check_interval.count()));
      if (rc != 0) {
        return uv_status(rc, "watch the CRL file '" + options_.crl + "'");
      }
    }
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
    if (crl_poll_open_) {
      closer_.close(&crl_poll_);
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

  // The CRL file changed (libuv compares its stat every crl_check_interval): load it, and close
  // the connections of the agents it revokes. A list that cannot be loaded changes nothing.
  static void on_crl_changed(uv_fs_poll_t* poll, int status, const uv_stat_t* /*prev*/,
                             const uv_stat_t* /*curr*/) noexcept {
    auto* self = static_cast<TlsServerImpl*>(poll->data);
    if (self->closing_) {
      return;
    }
    if (status < 0) {
      ASSAS_LOG(kError, "cannot read the CRL file; the previous revocation list stays in force",
                log::kv("crl", self->options_.crl), log::kv("error", uv_strerror(status)));
      return;
    }
    Result<std::shared_ptr<const RevocationList>> list =
        RevocationList::load(self->options_.crl, self->options_.tls.ca);
    Status used = list.is_ok() ? self->tls_->use_revocation_list(**list, self->options_.tls.ca)
                               : list.status();
    if (!used.is_ok()) {
      ASSAS_LOG(kError, "cannot load the new revocation list; the previous one stays in force",
                log::kv("error", used.to_string()));
      return;
    }
    self->revoked_ = std::move(list).value();
    log_revocation_list(*self->revoked_, self->options_.crl, "revocation list reloaded");
    std::vector<ServerConnection*> open(self->connections_.begin(), self->connections_.end());
    for (ServerConnection* c : open) {
      X509* cert = c->peer_certificate();
      if (cert != nullptr && self->revoked_->revokes(cert)) {
        ASSAS_LOG(kWarn, "closing the connection of an agent whose certificate was revoked",
                  log::kv("agent", c->peer_identity()), log::kv("peer", c->peer_address()));
        c->close(permission_denied("certificate revoked"));
      }
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
  std::shared_ptr<const RevocationList> revoked_;  // null without a crl
  ConnectionAcceptor& acceptor_;
  uv_fs_poll_t crl_poll_{};
  bool crl_poll_open_ = false;
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
  std::shared_ptr<const RevocationList> revoked;
  if (!options.crl.empty()) {
    Result<std::shared_ptr<const RevocationList>> list =
        RevocationList::load(options.crl, options.tls.ca);
    Status used =
        list.is_ok() ? (*tls)->use_revocation_list(**list, options.tls.ca) : list.status();
    if (!used.is_ok()) {
      return used.with_context("tls.crl");
    }
    revoked = std::move(list).value();
    log_revocation_list(*revoked, options.crl, "revocation list loaded");
  }
  return std::unique_ptr<TlsServer>(new TlsServerImpl(loop, std::move(options),
                                                      std::move(addresses), std::move(tls).value(),
                                                      std::move(revoked), acceptor));
}

}  // namespace assas::transport
