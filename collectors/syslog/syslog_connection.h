#pragma once

// One TCP or TLS syslog connection: bytes → (TLS) → SyslogFramer → SyslogIntake. Flow control is
// TCP's own: while the pipeline is paused, or the sender is over its rate limit, the connection
// stops reading, the kernel's buffers fill, and the sender waits. The message that was not taken
// is kept and offered again first.
//
// Owned by its StreamListener, which it tells when it is gone (on_finished, after every handle
// closed). Loop thread only.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <uv.h>

#include "base/status.h"
#include "base/uv_util.h"
#include "collectors/syslog/syslog_framer.h"
#include "collectors/syslog/syslog_intake.h"
#include "transport/tls/tls_session.h"

namespace assas::collectors {

class SyslogConnection {
 public:
  using OnFinished = std::function<void(SyslogConnection*)>;

  // Accepts the waiting connection from listener. tls: null for plain TCP. over_limit: refuse it
  // at once (max_connections). Never fails: a connection that cannot be set up or is refused
  // closes itself and reports through on_finished.
  static SyslogConnection* accept(uv_loop_t* loop, uv_stream_t* listener, SyslogIntake& intake,
                                  const agent::StreamPtr& stream, SyslogTransport transport,
                                  std::shared_ptr<transport::TlsContext> tls,
                                  uint64_t max_message_bytes, uint64_t handshake_timeout_ms,
                                  bool over_limit, OnFinished on_finished);

  // The intake's pause state changed: stop reading, or deliver what waits and read again.
  void update_reading();
  void close(const Status& why);

  const std::string& peer() const { return peer_; }
  // Counted in connections_open (accepted, not refused); the listener counts max_connections by it.
  bool counted() const { return counted_; }

 private:
  SyslogConnection(SyslogIntake& intake, const agent::StreamPtr& stream, SyslogTransport transport,
                   uint64_t max_message_bytes, OnFinished on_finished);
  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) noexcept;
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void on_timer(uv_timer_t* timer) noexcept;
  void handle_bytes(std::string_view bytes);
  void flush_tls();
  // Offers the pending message, then every complete one in the framer; false when one was not
  // taken (it is pending now).
  bool deliver();
  bool offer(const SyslogMessage& message);
  void set_reading(bool on);
  void refuse(SyslogDrop why, const Status& status);
  void finish();

  SyslogIntake& intake_;
  agent::StreamPtr stream_;
  SyslogTransport transport_;
  SyslogFramer framer_;
  std::unique_ptr<transport::TlsSession> tls_;
  SyslogSender sender_;
  std::string peer_;  // "10.1.2.3:51514"
  // A message the pipeline did not take yet.
  bool has_pending_ = false;
  std::string pending_;
  bool pending_truncated_ = false;
  uint64_t pending_original_size_ = 0;
  std::string plaintext_;
  std::string read_buffer_;
  bool reading_ = false;
  bool waiting_for_token_ = false;  // over the rate limit: the timer ends the wait
  bool eof_ = false;                // the sender closed; deliver the rest, then close
  bool closing_ = false;
  bool counted_ = false;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};  // the handshake timeout, then the rate limit's wait
  OnFinished on_finished_;
  HandleCloser closer_;
};

}  // namespace assas::collectors
