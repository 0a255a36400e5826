#pragma once

// The `type: syslog` collector: listens for syslog from network equipment and devices over UDP,
// TCP and TLS (RFC 5426, RFC 6587, RFC 5425), parses RFC 5424 and RFC 3164 messages into fields,
// and keeps each message's original bytes as the event's message. docs/collectors/syslog.md says
// what happens to malformed, oversized, unwanted and excess messages.
//
// A network source has no position to resume from: its streams have no source_id, and nothing is
// checkpointed. TCP and TLS senders are pushed back (the agent stops reading) while the pipeline
// is paused; UDP senders cannot be, so their datagrams wait in a bounded queue and are counted
// when dropped.
//
// Loop thread only; close() before destroying.

#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "agent/collector.h"
#include "collectors/syslog/stream_listener.h"
#include "collectors/syslog/syslog_collector_config.h"
#include "collectors/syslog/syslog_intake.h"
#include "collectors/syslog/udp_listener.h"

namespace assas::collectors {

class SyslogCollector final : public agent::Collector {
 public:
  // tls: the server context of the tls listener (null without one), made by make_syslog_tls.
  SyslogCollector(uv_loop_t* loop, SyslogCollectorConfig config,
                  std::shared_ptr<transport::TlsContext> tls);
  ~SyslogCollector() override;
  SyslogCollector(const SyslogCollector&) = delete;
  SyslogCollector& operator=(const SyslogCollector&) = delete;

  const std::string& name() const override { return config_.name; }
  Status start(agent::EventSink& sink, const agent::PositionMap& positions) override;
  void pause(agent::PauseReason why) override;
  void resume(agent::PauseReason why) override;
  void metrics(std::vector<agent::CollectorMetric>& out) const override;
  void certificate_files(std::vector<transport::CertificateFile>& out) const override;
  void close(std::function<void()> on_closed) override;

 private:
  void one_closed();

  uv_loop_t* loop_;
  SyslogCollectorConfig config_;
  std::shared_ptr<transport::TlsContext> tls_;
  SyslogIntake intake_;
  std::vector<std::unique_ptr<UdpListener>> udp_;
  std::vector<std::unique_ptr<StreamListener>> streams_;
  uint32_t open_connections_ = 0;
  size_t open_listeners_ = 0;
  bool closed_ = false;
  std::function<void()> on_closed_;
};

// The TLS context of a config's tls listener; null if it has none. Errors name the file.
Result<std::shared_ptr<transport::TlsContext>> make_syslog_tls(const SyslogCollectorConfig& config);

}  // namespace assas::collectors
