#include "transport/client/session_output.h"

#include "base/log.h"

namespace assas::transport {

using std::chrono::milliseconds;

Status prepare_session(const SessionOptions& options, std::vector<Endpoint>& endpoints,
                       std::shared_ptr<TlsContext>& tls) {
  if (options.endpoints.empty()) {
    return invalid_argument(
        "endpoints: list at least one receiver, e.g. [\"soc1.example.ma:6514\"]");
  }
  for (const std::string& text : options.endpoints) {
    Result<Endpoint> e = parse_endpoint(text);
    if (!e.is_ok()) {
      return e.status();
    }
    endpoints.push_back(*e);
  }
  if (!options.use_tls) {
    return Status::ok();
  }
  Result<std::shared_ptr<TlsContext>> context =
      TlsContext::make_client(options.tls, options.tls_policy);
  if (!context.is_ok()) {
    return context.status().with_context("tls");
  }
  tls = std::move(context).value();
  return Status::ok();
}

SessionOutput::SessionOutput(uv_loop_t* loop, const SessionOptions& options,
                             std::vector<Endpoint> endpoints, std::shared_ptr<TlsContext> tls)
    : loop_(loop),
      options_(options),
      endpoints_(std::move(endpoints)),
      tls_(std::move(tls)),
      random_(std::random_device{}()),
      backoff_(options_.backoff_min, options_.backoff_max, [this] { return random_(); }),
      preferred_(options_.first_endpoint % endpoints_.size()),
      endpoint_index_(preferred_) {
  for (uv_timer_t* timer : {&retry_timer_, &failback_timer_, &watchdog_timer_}) {
    ASSAS_CHECK(uv_timer_init(loop_, timer) == 0, "timer init cannot fail");
    timer->data = this;
  }
}

SessionOutput::~SessionOutput() {
  ASSAS_CHECK(closed_, "output destroyed before close() completed");
}

Status SessionOutput::start(OutputListener& listener) {
  listener_ = &listener;
  connect_next();
  return Status::ok();
}

OutputStats SessionOutput::stats() const {
  OutputStats s = stats_;
  s.connected = state_ == State::kReady;
  // The open connection's bytes; a connection's total joins stats_ when it is let go.
  s.bytes_sent += connection_ != nullptr ? connection_->bytes_queued() : 0;
  return s;
}

void append_certificate_files(const SessionOptions& options, std::vector<CertificateFile>& out) {
  if (!options.use_tls) {
    return;
  }
  if (!options.tls.ca.empty()) {
    out.push_back(CertificateFile{"ca", options.tls.ca});
  }
  if (!options.tls.cert.empty()) {
    out.push_back(CertificateFile{"cert", options.tls.cert});
  }
}

void SessionOutput::certificate_files(std::vector<CertificateFile>& out) const {
  append_certificate_files(options_, out);
}

void SessionOutput::close(std::function<void()> on_closed) {
  if (state_ == State::kClosing) {
    return;
  }
  bool was_ready = state_ == State::kReady;
  state_ = State::kClosing;  // no listener calls after close() started
  on_closed_ = std::move(on_closed);
  if (connection_ != nullptr) {
    if (was_ready) {
      on_session_closing(*connection_);
    }
    connection_->close(Status::ok());
  }
  for (uv_timer_t* timer : {&retry_timer_, &failback_timer_, &watchdog_timer_}) {
    uv_timer_stop(timer);
    closer_.close(timer);
  }
  close_handles(closer_);
  closer_.when_closed([](void* self) { static_cast<SessionOutput*>(self)->maybe_closed(); }, this);
}

void SessionOutput::connect_next() {
  if (state_ == State::kClosing) {
    return;
  }
  state_ = State::kConnecting;
  const Endpoint& endpoint = endpoints_[endpoint_index_];
  std::string server_name =
      options_.tls.server_name.empty() ? endpoint.host : options_.tls.server_name;
  connection_ =
      ClientConnection::start(loop_, *this, endpoint,
                              ConnectParams{options_.socket, tls_, server_name,
                                            options_.connect_timeout, options_.tcp_user_timeout});
  ++live_connections_;
}

void SessionOutput::on_connection_ready(ClientConnection& connection) {
  if (&connection == connection_ && state_ == State::kConnecting) {
    on_session_start(connection);
  }
}

void SessionOutput::on_connection_bytes(ClientConnection& connection, std::string_view bytes) {
  if (&connection == connection_ && state_ != State::kClosing) {
    on_session_bytes(bytes);
  }
}

void SessionOutput::on_connection_failed(ClientConnection& connection, const Status& why) {
  if (&connection == connection_) {
    fail(why.code() == StatusCode::kUnavailable ? explain_failure(why) : why);
  }
}

void SessionOutput::on_connection_closed(ClientConnection& connection) {
  if (&connection == connection_) {
    stats_.bytes_sent += connection.bytes_queued();
    connection_ = nullptr;
  }
  --live_connections_;
  maybe_closed();
}

void SessionOutput::session_established(uint64_t stored_upto) {
  if (state_ != State::kConnecting) {
    fail(corruption("receiver finished the session's opening twice"));
    return;
  }
  state_ = State::kReady;
  draining_ = false;
  ++stats_.connects;
  connection_->connected();
  backoff_.reset();
  last_progress_ms_ = uv_now(loop_);
  ASSAS_LOG(kInfo, "connected to receiver", log::kv("output", options_.name),
            log::kv("endpoint", endpoints_[endpoint_index_].to_string()));
  if (endpoint_index_ != preferred_ && options_.failback_after.count() > 0) {
    int rc = uv_timer_start(&failback_timer_, &SessionOutput::on_failback_due,
                            static_cast<uint64_t>(options_.failback_after.count()), 0);
    ASSAS_CHECK(rc == 0, "timer start cannot fail");
  }
  if (options_.ack_timeout.count() > 0) {
    auto tick = static_cast<uint64_t>(std::max<int64_t>(options_.ack_timeout.count() / 4, 1));
    ASSAS_CHECK(uv_timer_start(&watchdog_timer_, &SessionOutput::on_watchdog, tick, tick) == 0,
                "timer start cannot fail");
  }
  Status accepted = listener_->on_connected(stored_upto);
  if (!accepted.is_ok()) {
    fail(accepted);
  }
}

void SessionOutput::progress() {
  last_progress_ms_ = uv_now(loop_);
  if (draining_ && !in_flight()) {
    fail_back();
  }
}

void SessionOutput::on_watchdog(uv_timer_t* timer) noexcept {
  auto* self = static_cast<SessionOutput*>(timer->data);
  if (self->state_ != State::kReady) {
    return;
  }
  uint64_t now = uv_now(self->loop_);
  if (!self->in_flight()) {
    self->last_progress_ms_ = now;
    return;
  }
  uint64_t silent = now - self->last_progress_ms_;
  if (silent >= static_cast<uint64_t>(self->session_options().ack_timeout.count())) {
    ++self->stats_.heartbeat_timeouts;
    self->fail(unavailable("nothing acknowledged for " + std::to_string(silent) +
                           " ms with messages in flight; receiver presumed dead"));
  }
}

void SessionOutput::on_failback_due(uv_timer_t* timer) noexcept {
  auto* self = static_cast<SessionOutput*>(timer->data);
  if (self->state_ != State::kReady) {
    return;
  }
  ASSAS_LOG(kInfo, "trying the preferred receiver again; finishing the batches in flight first",
            log::kv("output", self->options_.name),
            log::kv("preferred", self->endpoints_[self->preferred_].to_string()));
  self->draining_ = true;
  if (!self->in_flight()) {
    self->fail_back();
  }
}

// Every batch sent here is acknowledged: closing now leaves nothing for this receiver to finish,
// so the preferred one takes over from the next batch without a duplicate.
void SessionOutput::fail_back() {
  ++stats_.failbacks;
  uv_timer_stop(&watchdog_timer_);
  on_session_closing(*connection_);
  stats_.bytes_sent += connection_->bytes_queued();
  connection_->close(Status::ok());
  connection_ = nullptr;
  state_ = State::kWaiting;
  draining_ = false;
  on_session_end();
  listener_->on_disconnected(unavailable("moving back to the preferred receiver"));
  endpoint_index_ = preferred_;
  int rc = uv_timer_start(&retry_timer_, &SessionOutput::on_retry, 0, 0);
  ASSAS_CHECK(rc == 0, "timer start cannot fail");
}

void SessionOutput::fail(const Status& why) {
  if (state_ == State::kClosing || state_ == State::kWaiting) {
    return;
  }
  bool was_ready = state_ == State::kReady;
  ++(was_ready ? stats_.disconnects : stats_.connect_failures);
  if (why.code() == StatusCode::kCorruption || why.code() == StatusCode::kInvalidArgument) {
    ++stats_.protocol_errors;
  }
  draining_ = false;
  uv_timer_stop(&failback_timer_);
  uv_timer_stop(&watchdog_timer_);
  if (connection_ != nullptr) {
    stats_.bytes_sent += connection_->bytes_queued();
    connection_->close(why);
    connection_ = nullptr;
  }
  state_ = State::kWaiting;
  on_session_end();
  ASSAS_LOG(kWarn, was_ready ? "connection to receiver lost" : "cannot connect to receiver",
            log::kv("output", options_.name),
            log::kv("endpoint", endpoints_[endpoint_index_].to_string()),
            log::kv("error", why.to_string()));
  if (was_ready) {
    listener_->on_disconnected(why);
  }
  // Failover: the next endpoint at once; after a whole round, back off.
  endpoint_index_ = (endpoint_index_ + 1) % endpoints_.size();
  milliseconds delay = endpoint_index_ == preferred_ ? backoff_.next() : milliseconds(0);
  int rc = uv_timer_start(&retry_timer_, &SessionOutput::on_retry,
                          static_cast<uint64_t>(delay.count()), 0);
  ASSAS_CHECK(rc == 0, "timer start cannot fail");
}

void SessionOutput::on_retry(uv_timer_t* timer) noexcept {
  static_cast<SessionOutput*>(timer->data)->connect_next();
}

void SessionOutput::maybe_closed() {
  if (state_ != State::kClosing || live_connections_ > 0 || !closer_.idle() || closed_ ||
      !on_closed_) {
    return;
  }
  closed_ = true;
  auto done = std::move(on_closed_);
  done();
}

}  // namespace assas::transport
