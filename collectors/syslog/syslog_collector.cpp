#include "collectors/syslog/syslog_collector.h"

#include <span>

#include "base/log.h"
#include "transport/tls/tls_context.h"

namespace assas::collectors {

namespace {

// The reasons counted for each transport.
std::span<const SyslogDrop> drop_reasons(SyslogTransport transport) {
  static constexpr SyslogDrop kUdp[] = {SyslogDrop::kNotAllowed, SyslogDrop::kRateLimit,
                                        SyslogDrop::kQueueFull};
  static constexpr SyslogDrop kTcp[] = {SyslogDrop::kNotAllowed, SyslogDrop::kTooManyConnections};
  static constexpr SyslogDrop kTls[] = {SyslogDrop::kNotAllowed, SyslogDrop::kTooManyConnections,
                                        SyslogDrop::kTlsHandshake};
  switch (transport) {
    case SyslogTransport::kUdp:
      return kUdp;
    case SyslogTransport::kTcp:
      return kTcp;
    case SyslogTransport::kTls:
      return kTls;
  }
  return {};
}

}  // namespace

SyslogCollector::SyslogCollector(uv_loop_t* loop, SyslogCollectorConfig config,
                                 std::shared_ptr<transport::TlsContext> tls)
    : loop_(loop), config_(std::move(config)), tls_(std::move(tls)), intake_(loop, config_) {}

SyslogCollector::~SyslogCollector() {
  ASSAS_CHECK(closed_ || open_listeners_ == 0, "SyslogCollector destroyed before close()");
}

Result<std::shared_ptr<transport::TlsContext>> make_syslog_tls(
    const SyslogCollectorConfig& config) {
  for (const SyslogListenerConfig& listener : config.listeners) {
    if (listener.transport == SyslogTransport::kTls) {
      transport::TlsServerPolicy policy;
      policy.require_client_cert = listener.require_client_cert;
      policy.allow_tls12 = true;  // RFC 5425 senders: TLS 1.2 is what most devices speak
      Result<std::shared_ptr<transport::TlsContext>> context =
          transport::TlsContext::make_server(listener.tls, policy);
      if (!context.is_ok()) {
        return context.status().with_context("syslog tls listener");
      }
      return context;
    }
  }
  return std::shared_ptr<transport::TlsContext>();
}

Status SyslogCollector::start(agent::EventSink& sink, const agent::PositionMap& /*positions*/) {
  intake_.attach(sink);
  for (const SyslogListenerConfig& listener : config_.listeners) {
    for (const transport::Endpoint& address : listener.listen) {
      int port = 0;
      if (listener.transport == SyslogTransport::kUdp) {
        auto udp = std::make_unique<UdpListener>(loop_, intake_, config_, address,
                                                 listener.receive_buffer_bytes);
        ++open_listeners_;
        UdpListener& u = *udp;
        udp_.push_back(std::move(udp));
        ASSAS_RETURN_IF_ERROR(u.start());
        port = u.bound_port();
      } else {
        auto stream = std::make_unique<StreamListener>(loop_, intake_, config_, address,
                                                       listener.transport, tls_, open_connections_);
        ++open_listeners_;
        StreamListener& s = *stream;
        streams_.push_back(std::move(stream));
        ASSAS_RETURN_IF_ERROR(s.start());
        port = s.bound_port();
      }
      ASSAS_LOG(kInfo, "syslog listener ready", log::kv("collector", config_.name),
                log::kv("transport", transport_name(listener.transport)),
                log::kv("address", address.to_string()), log::kv("port", port));
    }
  }
  return Status::ok();
}

void SyslogCollector::pause(agent::PauseReason why) {
  intake_.pause(why);
  for (auto& stream : streams_) {
    stream->update_reading();
  }
}

void SyslogCollector::resume(agent::PauseReason why) {
  intake_.resume(why);
  if (intake_.paused()) {
    return;
  }
  for (auto& udp : udp_) {
    udp->drain();
  }
  for (auto& stream : streams_) {
    stream->update_reading();
  }
}

void SyslogCollector::close(std::function<void()> on_closed) {
  on_closed_ = std::move(on_closed);
  if (open_listeners_ == 0) {
    closed_ = true;
    on_closed_();
    return;
  }
  for (auto& udp : udp_) {
    udp->close([this] { one_closed(); });
  }
  for (auto& stream : streams_) {
    stream->close([this] { one_closed(); });
  }
}

void SyslogCollector::one_closed() {
  if (--open_listeners_ == 0) {
    closed_ = true;
    on_closed_();  // may destroy this
  }
}

void SyslogCollector::certificate_files(std::vector<transport::CertificateFile>& out) const {
  for (const SyslogListenerConfig& listener : config_.listeners) {
    if (listener.transport != SyslogTransport::kTls) {
      continue;
    }
    if (!listener.tls.ca.empty()) {
      out.push_back(transport::CertificateFile{"ca", listener.tls.ca});
    }
    out.push_back(transport::CertificateFile{"cert", listener.tls.cert});
  }
}

void SyslogCollector::metrics(std::vector<agent::CollectorMetric>& out) const {
  for (const SyslogListenerConfig& listener : config_.listeners) {
    SyslogTransport t = listener.transport;
    const SyslogTransportStats& s = intake_.stats(t);
    auto add = [&](std::string_view family, std::string_view type, std::string_view help,
                   uint64_t value) {
      out.push_back(agent::CollectorMetric{
          family, type, help, {{"transport", std::string(transport_name(t))}}, value});
    };
    add("assas_syslog_messages_total", "counter", "Syslog messages handed to the pipeline.",
        s.messages);
    add("assas_syslog_bytes_total", "counter", "Bytes of the syslog messages handed over.",
        s.bytes);
    add("assas_syslog_parse_errors_total", "counter",
        "Messages neither RFC 5424 nor RFC 3164, kept raw with the field parse_error.",
        s.parse_errors);
    add("assas_syslog_truncated_total", "counter",
        "Messages longer than max_message_size, kept cut with the field truncated.", s.truncated);
    if (t != SyslogTransport::kUdp) {
      add("assas_syslog_connections", "gauge", "Open syslog connections.", s.connections_open);
      add("assas_syslog_connections_total", "counter", "Syslog connections accepted.",
          s.connections_total);
    }
    // UDP messages are dropped; TCP and TLS connections are refused (their senders wait instead).
    bool udp = t == SyslogTransport::kUdp;
    auto drop = [&](std::string_view reason, uint64_t value) {
      out.push_back(agent::CollectorMetric{
          udp ? "assas_syslog_dropped_total" : "assas_syslog_connections_refused_total",
          "counter",
          udp ? "UDP syslog messages dropped, by reason."
              : "Syslog connections refused, by reason.",
          {{"transport", std::string(transport_name(t))}, {"reason", std::string(reason)}},
          value});
    };
    for (SyslogDrop why : drop_reasons(t)) {
      drop(drop_name(why), s.dropped[static_cast<int>(why)]);
    }
    if (udp) {
      uint64_t kernel = 0;
      for (const auto& socket : udp_) {
        kernel += socket->kernel_drops();
      }
      drop("receive_buffer", kernel);
    }
  }
}

}  // namespace assas::collectors
