#pragma once

// What every syslog listener of one collector shares: the sender allow-list, the per-sender rate
// limit, parsing, the event's fields, the push into the pipeline, and the counters. A listener
// (UDP) or connection (TCP, TLS) hands over each framed message with its sender; the intake says
// whether the pipeline took it. Loop thread only.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/socket.h>

#include <uv.h>

#include "agent/collector.h"
#include "collectors/syslog/rate_limiter.h"
#include "collectors/syslog/syslog_collector_config.h"
#include "collectors/syslog/syslog_parser.h"

namespace assas::collectors {

// Why a message or a connection was turned away (counted per reason, docs/collectors/syslog.md).
enum class SyslogDrop : uint8_t {
  kNotAllowed = 0,  // the sender is not in `allow`
  kRateLimit = 1,   // UDP over the sender's rate_limit (TCP and TLS wait instead)
  kQueueFull = 2,   // UDP while the pipeline was paused and udp_queue was full
  kTooManyConnections = 3,
  kTlsHandshake = 4,  // failed or timed out (no or a bad client certificate, not TLS, ...)
};
inline constexpr int kSyslogDropCount = 5;
std::string_view drop_name(SyslogDrop why);

struct SyslogTransportStats {
  uint64_t messages = 0;  // pushed into the pipeline
  uint64_t bytes = 0;
  uint64_t parse_errors = 0;  // pushed raw with the field parse_error
  uint64_t truncated = 0;     // longer than max_message_size, pushed cut with truncated_from
  uint64_t connections_open = 0;
  uint64_t connections_total = 0;
  std::array<uint64_t, kSyslogDropCount> dropped{};  // messages (UDP) or connections (TCP, TLS)
};

// One framed message as received.
struct SyslogMessage {
  std::string_view bytes;
  bool truncated = false;
  uint64_t original_size = 0;  // when truncated
};

// Who sent it.
struct SyslogSender {
  std::string ip;        // "10.1.2.3" or "2001:db8::7"
  std::string tls_peer;  // the verified client certificate's identity, if one was sent
};

// The stream of one listener: the collector's name and fields, the source
// "<transport>://<address>", and no checkpoint key (a network source has no position to resume
// from).
agent::StreamPtr listener_stream(const SyslogCollectorConfig& config, SyslogTransport transport,
                                 const transport::Endpoint& address);

class SyslogIntake {
 public:
  SyslogIntake(uv_loop_t* loop, const SyslogCollectorConfig& config);

  void attach(agent::EventSink& sink) { sink_ = &sink; }
  // Pauses are counted per reason, as the Collector interface asks.
  void pause(agent::PauseReason why) { pauses_.pause(why); }
  void resume(agent::PauseReason why) { pauses_.resume(why); }
  bool paused() const { return pauses_.paused(); }

  bool allowed(const sockaddr* sender) const;
  // Takes one of the sender's tokens: 0 if it had one, else how many ms until it has one.
  uint64_t take_token(const SyslogSender& sender);
  // Parses the message and offers it to the pipeline; false: the pipeline is paused and did not
  // take it (keep it and offer it again after resume).
  [[nodiscard]] bool push(const agent::StreamPtr& stream, const SyslogSender& sender,
                          const SyslogMessage& message, SyslogTransport transport);

  SyslogTransportStats& stats(SyslogTransport transport) {
    return stats_[static_cast<int>(transport)];
  }
  const SyslogTransportStats& stats(SyslogTransport transport) const {
    return stats_[static_cast<int>(transport)];
  }
  void count_drop(SyslogTransport transport, SyslogDrop why);

 private:
  uv_loop_t* loop_;
  const std::string& collector_;
  agent::EventSink* sink_ = nullptr;
  std::optional<RateLimiter> limiter_;
  NetworkList allow_;
  SyslogParse parse_;
  std::vector<agent::FieldView> fields_;
  std::string truncated_from_;
  agent::PauseCounts pauses_;
  std::array<SyslogTransportStats, kSyslogTransportCount> stats_{};
  uint64_t last_drop_log_ms_[kSyslogTransportCount] = {};
};

}  // namespace assas::collectors
