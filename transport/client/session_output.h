#pragma once

// What every output to a remote receiver shares, whatever its protocol (native, syslog, RELP):
// the endpoints, tried in order from the preferred one (failover); exponential backoff with full
// jitter after a whole round; failback to the preferred endpoint; a watchdog for a receiver that
// stops acknowledging; the session's statistics; and the close state machine. A subclass speaks
// its protocol over the ClientConnection this class makes (docs/outputs/README.md).
//
// The session's life, as the subclass sees it:
//   on_session_start(connection)  connected (TLS done): send the protocol's opening, or call
//                                 session_established() at once if it has none
//   on_session_bytes(bytes)       what the receiver sent
//   session_established(upto)     the subclass's opening is done: the shipper may send
//   fail(why)                     drop the session; the base reconnects (next endpoint, backoff)
//   on_session_end()              the session is gone: forget everything in flight
//   progress()                    acknowledgements moved (the watchdog's sign of life)
//   in_flight()                   failback stops sending and waits, at each progress(), until
//                                 nothing is in flight, so no batch is left half-delivered
// Loop thread only; close() before destroying.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <uv.h>

#include "base/status.h"
#include "base/uv_util.h"
#include "transport/client/backoff.h"
#include "transport/client/client_connection.h"
#include "transport/endpoint.h"
#include "transport/output.h"
#include "transport/tls/tls_config.h"
#include "transport/tls/tls_context.h"

namespace assas::transport {

// The settings every session output has (docs/config.md, outputs).
struct SessionOptions {
  std::string name = "assas";
  std::vector<std::string> endpoints;  // "host:port", "[::1]:6514"
  bool use_tls = true;
  TlsConfig tls;  // server_name empty: the endpoint's host is verified
  TlsClientPolicy tls_policy;
  SocketKind socket = SocketKind::kStream;
  uint64_t max_inflight_bytes = 8ULL << 20;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{30000};
  size_t first_endpoint = 0;                        // the preferred endpoint (index)
  std::chrono::milliseconds failback_after{60000};  // 0: stay where the last failover went
  // Something in flight and no progress() for this long: the receiver is presumed dead. 0: off.
  std::chrono::milliseconds ack_timeout{0};
  std::chrono::milliseconds tcp_user_timeout{0};  // ConnectParams::user_timeout
};

// Parses the endpoints and loads the TLS material (so that --check catches a bad certificate).
Status prepare_session(const SessionOptions& options, std::vector<Endpoint>& endpoints,
                       std::shared_ptr<TlsContext>& tls);

// The CA and certificate files of options, for the certificate expiry metric.
void append_certificate_files(const SessionOptions& options, std::vector<CertificateFile>& out);

class SessionOutput : public Output, private ClientConnection::Owner {
 public:
  ~SessionOutput() override;
  const std::string& name() const override { return options_.name; }
  Status start(OutputListener& listener) override;
  OutputStats stats() const override;
  void certificate_files(std::vector<CertificateFile>& out) const override;
  void close(std::function<void()> on_closed) override;

 protected:
  SessionOutput(uv_loop_t* loop, const SessionOptions& options, std::vector<Endpoint> endpoints,
                std::shared_ptr<TlsContext> tls);

  // The protocol.
  virtual void on_session_start(ClientConnection& connection) = 0;
  virtual void on_session_bytes(std::string_view bytes) = 0;
  virtual void on_session_end() = 0;
  virtual bool in_flight() const = 0;
  // The session ends on purpose (the output closes, or fails back): the protocol's goodbye, if it
  // has one, goes out before the connection closes.
  virtual void on_session_closing(ClientConnection& /*connection*/) {}
  // A failure of the connection, with what the protocol knows of it (e.g. closed mid-frame).
  virtual Status explain_failure(const Status& why) const { return why; }
  // Extra handles of the subclass, closed with the output's.
  virtual void close_handles(HandleCloser& /*closer*/) {}

  // The opening is done: stored_upto is what the receiver already holds (0 when it cannot say).
  void session_established(uint64_t stored_upto);
  void fail(const Status& why);
  // Acknowledgements moved forward (for the watchdog, and failback's drain).
  void progress();

  bool ready() const { return state_ == State::kReady; }
  // Failback is waiting for what is in flight: send nothing new.
  bool draining() const { return draining_; }
  ClientConnection* connection() const { return connection_; }
  OutputListener& listener() const { return *listener_; }
  uv_loop_t* loop() const { return loop_; }
  const SessionOptions& session_options() const { return options_; }
  OutputStats& counters() { return stats_; }

 private:
  // kWaiting (backoff timer) → kConnecting (resolve, connect, TLS, the protocol's opening) →
  // kReady (session_established) → kWaiting on any failure; kClosing once close() was called.
  enum class State { kWaiting, kConnecting, kReady, kClosing };

  void connect_next();
  void fail_back();
  void maybe_closed();
  static void on_retry(uv_timer_t* timer) noexcept;
  static void on_failback_due(uv_timer_t* timer) noexcept;
  static void on_watchdog(uv_timer_t* timer) noexcept;

  // ClientConnection::Owner
  void on_connection_ready(ClientConnection& connection) override;
  void on_connection_bytes(ClientConnection& connection, std::string_view bytes) override;
  void on_connection_failed(ClientConnection& connection, const Status& why) override;
  void on_connection_closed(ClientConnection& connection) override;

  uv_loop_t* loop_;
  SessionOptions options_;
  std::vector<Endpoint> endpoints_;
  std::shared_ptr<TlsContext> tls_;
  std::mt19937_64 random_;
  Backoff backoff_;
  size_t preferred_;
  size_t endpoint_index_;
  OutputListener* listener_ = nullptr;
  State state_ = State::kWaiting;
  bool draining_ = false;
  ClientConnection* connection_ = nullptr;  // owned by itself until on_connection_closed
  int live_connections_ = 0;
  uint64_t last_progress_ms_ = 0;
  uv_timer_t retry_timer_{};
  uv_timer_t failback_timer_{};
  uv_timer_t watchdog_timer_{};
  OutputStats stats_;
  HandleCloser closer_;
  std::function<void()> on_closed_;
  bool closed_ = false;
};

}  // namespace assas::transport
