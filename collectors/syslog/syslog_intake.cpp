#include "collectors/syslog/syslog_intake.h"

#include <algorithm>

#include "base/log.h"
#include "base/realtime.h"

namespace assas::collectors {

namespace {

constexpr uint64_t kDropLogIntervalMs = 60'000;

constexpr const char* kDropNames[kSyslogDropCount] = {"not_allowed", "rate_limit", "queue_full",
                                                      "too_many_connections", "tls_handshake"};

}  // namespace

std::string_view drop_name(SyslogDrop why) {
  return kDropNames[static_cast<int>(why)];
}

agent::StreamPtr listener_stream(const SyslogCollectorConfig& config, SyslogTransport transport,
                                 const transport::Endpoint& address) {
  auto stream = std::make_shared<agent::Stream>();
  stream->collector = config.name;
  stream->source = std::string(transport_name(transport)) + "://" + address.to_string();
  stream->fields = config.fields;
  return stream;
}

SyslogIntake::SyslogIntake(uv_loop_t* loop, const SyslogCollectorConfig& config)
    : loop_(loop), collector_(config.name), allow_(config.allow) {
  if (config.rate_per_second > 0) {
    limiter_.emplace(config.rate_per_second, config.rate_burst);
  }
}

bool SyslogIntake::allowed(const sockaddr* sender) const {
  return allow_.empty() || allow_.contains(sender);
}

uint64_t SyslogIntake::take_token(const SyslogSender& sender) {
  if (!limiter_) {
    return 0;
  }
  uint64_t now = uv_now(loop_);
  if (limiter_->allow(sender.ip, now)) {
    return 0;
  }
  return std::max<uint64_t>(1, limiter_->wait_ms(sender.ip, now));
}

bool SyslogIntake::push(const agent::StreamPtr& stream, const SyslogSender& sender,
                        const SyslogMessage& message, SyslogTransport transport) {
  parse_syslog(message.bytes, parse_);
  fields_.assign(parse_.fields.begin(), parse_.fields.end());
  fields_.emplace_back("sender", sender.ip);
  if (!sender.tls_peer.empty()) {
    fields_.emplace_back("tls_peer", sender.tls_peer);
  }
  if (message.truncated) {
    fields_.emplace_back("truncated", "true");
    // A newline-framed message is cut as soon as it is too long, before its end is known.
    if (message.original_size > message.bytes.size()) {
      truncated_from_ = std::to_string(message.original_size);
      fields_.emplace_back("truncated_from", truncated_from_);
    }
  }
  agent::Event event;
  event.time_ns = realtime_ns();
  event.message = message.bytes;
  event.fields = fields_;
  if (!sink_->push(stream, event)) {
    return false;
  }
  SyslogTransportStats& s = stats(transport);
  ++s.messages;
  s.bytes += message.bytes.size();
  s.parse_errors += parse_.ok() ? 0 : 1;
  s.truncated += message.truncated ? 1 : 0;
  return true;
}

void SyslogIntake::count_drop(SyslogTransport transport, SyslogDrop why) {
  SyslogTransportStats& s = stats(transport);
  ++s.dropped[static_cast<int>(why)];
  // A flood must not become a flood of log lines: one line a minute per transport, with the
  // totals so far (the metrics have them too).
  uint64_t now = uv_now(loop_);
  uint64_t& last = last_drop_log_ms_[static_cast<int>(transport)];
  if (last != 0 && now - last < kDropLogIntervalMs) {
    return;
  }
  last = now == 0 ? 1 : now;
  std::string totals;
  for (int i = 0; i < kSyslogDropCount; ++i) {
    if (s.dropped[i] != 0) {
      totals += totals.empty() ? "" : ",";
      totals += std::string(kDropNames[i]) + ":" + std::to_string(s.dropped[i]);
    }
  }
  bool connection = why == SyslogDrop::kTooManyConnections || why == SyslogDrop::kTlsHandshake ||
                    transport != SyslogTransport::kUdp;
  ASSAS_LOG(kWarn,
            connection ? "syslog connection refused (logged at most once a minute)"
                       : "syslog messages dropped (logged at most once a minute)",
            log::kv("collector", collector_), log::kv("transport", transport_name(transport)),
            log::kv("reason", drop_name(why)), log::kv("totals", totals));
}

}  // namespace assas::collectors
