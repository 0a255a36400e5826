#pragma once

// One TCP or TLS syslog listening socket and the connections it accepted. All connections of a
// collector count against its max_connections together (open_connections is the collector's).
//
// Loop thread only; close() before destroying.

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include <uv.h>

#include "base/status.h"
#include "base/uv_util.h"
#include "collectors/syslog/syslog_connection.h"

namespace assas::collectors {

class StreamListener {
 public:
  StreamListener(uv_loop_t* loop, SyslogIntake& intake, const SyslogCollectorConfig& config,
                 const transport::Endpoint& address, SyslogTransport transport,
                 std::shared_ptr<transport::TlsContext> tls, uint32_t& open_connections);
  ~StreamListener();
  StreamListener(const StreamListener&) = delete;
  StreamListener& operator=(const StreamListener&) = delete;

  Status start();
  int bound_port() const;
  // The pipeline paused or resumed: every connection stops or starts reading.
  void update_reading();
  // Stops listening and closes every connection, then calls on_closed.
  void close(std::function<void()> on_closed);

 private:
  static void on_accept(uv_stream_t* server, int status) noexcept;
  void maybe_finish_close();

  uv_loop_t* loop_;
  SyslogIntake& intake_;
  const SyslogCollectorConfig& config_;
  transport::Endpoint address_;
  SyslogTransport transport_;
  std::shared_ptr<transport::TlsContext> tls_;
  uint32_t& open_connections_;
  agent::StreamPtr stream_;
  std::set<SyslogConnection*> connections_;
  uv_tcp_t tcp_{};
  bool closing_ = false;
  bool listener_closed_ = false;
  bool closed_ = false;
  std::function<void()> on_closed_;
  HandleCloser closer_;
};

}  // namespace assas::collectors
