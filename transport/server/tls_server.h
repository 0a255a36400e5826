#pragma once

// The receiving side of the native protocol, as a library: listens on TCP, runs TLS 1.3 with
// mandatory client certificates from the configured CA, decodes frames, and hands each
// authenticated connection to a ConnectionHandler that the application (assas-ingest) supplies.
// The handler never sees TLS or bytes on the wire, only frames.
//
// Contract: loop thread only; loop must outlive the server; close() before destroying it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "base/status.h"
#include "transport/protocol/frames.h"
#include "transport/tls/tls_config.h"

using X509 = struct x509_st;

namespace assas::transport {

// One accepted, authenticated connection, owned by the server. Valid until the handler's
// on_closed() has returned.
class PeerConnection {
 public:
  virtual ~PeerConnection() = default;
  // The identity from the client certificate (its first DNS subjectAltName, else its CN).
  virtual const std::string& peer_identity() const = 0;
  virtual const std::string& peer_address() const = 0;  // "127.0.0.1:53422"
  // The client's verified certificate, owned by the connection (take a reference to keep it
  // longer); nullptr if there is none.
  virtual X509* peer_certificate() const { return nullptr; }
  virtual void send(const Frame& frame) = 0;
  // Stop or restart reading frames (backpressure), counted like the agent's pauses.
  virtual void pause_reading() = 0;
  virtual void resume_reading() = 0;
  // Sends an ErrorFrame when why is not OK, then closes; handler->on_closed follows.
  virtual void close(const Status& why) = 0;
};

class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  // One decoded frame. BatchFrame::payload is valid only during the call.
  virtual void on_frame(const Frame& frame) = 0;
  // The connection is gone (peer closed, error, or close()); no call follows. The server destroys
  // the handler right after this returns.
  virtual void on_closed(const Status& why) = 0;
};

class ConnectionAcceptor {
 public:
  virtual ~ConnectionAcceptor() = default;
  // A connection completed its TLS handshake with a verified client certificate. Return its
  // handler, or nullptr to refuse it (the server then closes it).
  virtual std::unique_ptr<ConnectionHandler> on_connection(PeerConnection& connection) = 0;
};

struct TlsServerOptions {
  std::vector<std::string> listen;  // "127.0.0.1:6514", "[::1]:6514"; port 0 picks a free port
  TlsConfig tls;                    // ca, cert, key (client certificates always required)
  // A CRL file (PEM) of revoked agent certificates, "" for none. Watched every
  // crl_check_interval: a changed file is loaded without a restart, and the connections of agents
  // it revokes are closed. A file that cannot be loaded leaves the previous list in force.
  std::string crl;
  std::chrono::milliseconds crl_check_interval{5000};
  uint32_t max_connections = 1024;
  std::chrono::milliseconds handshake_timeout{10000};  // until the hello frame has arrived
  std::chrono::milliseconds idle_timeout{60000};       // no frame at all (pings count)
  uint32_t max_frame_bytes = 16U << 20;
};

class TlsServer {
 public:
  static Result<std::unique_ptr<TlsServer>> create(uv_loop_t* loop, TlsServerOptions options,
                                                   ConnectionAcceptor& acceptor);
  virtual ~TlsServer() = default;
  // Binds and listens on every address; fails naming the address.
  virtual Status start() = 0;
  // The bound port of each listen address, in order (useful with port 0).
  virtual std::vector<int> bound_ports() const = 0;
  // Stops accepting, closes every connection (handlers get on_closed), then calls on_closed.
  virtual void close(std::function<void()> on_closed) = 0;
};

}  // namespace assas::transport
