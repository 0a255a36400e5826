// Agent::metrics_text: what the metrics file and /metrics say (docs/metrics.md lists every
// metric), and Agent::health_inputs: what /health judges.

#include <algorithm>
#include <ctime>

#include "agent/agent.h"
#include "agent/metrics_text.h"

namespace assas::agent {

namespace {

void output_family(MetricsText& m, const std::vector<DeliveryOutputStats>& outputs,
                   std::string_view name, std::string_view type, std::string_view help,
                   uint64_t (*value)(const DeliveryOutputStats&)) {
  m.family(name, type, help);
  for (const DeliveryOutputStats& o : outputs) {
    m.sample(value(o), {{"output", o.name}});
  }
}

// The collectors' own metrics, each family once with the samples of every collector.
void collector_families(MetricsText& m, const std::vector<std::unique_ptr<Collector>>& collectors) {
  std::vector<std::pair<const Collector*, CollectorMetric>> samples;
  for (const auto& collector : collectors) {
    std::vector<CollectorMetric> own;
    collector->metrics(own);
    for (CollectorMetric& metric : own) {
      samples.emplace_back(collector.get(), std::move(metric));
    }
  }
  std::stable_sort(samples.begin(), samples.end(),
                   [](const auto& a, const auto& b) { return a.second.family < b.second.family; });
  std::string_view family;
  for (const auto& [collector, metric] : samples) {
    if (metric.family != family) {
      family = metric.family;
      m.family(metric.family, metric.type, metric.help);
    }
    MetricLabels labels{{"collector", collector->name()}};
    for (const auto& [key, value] : metric.labels) {
      labels.emplace_back(key, value);
    }
    m.sample(metric.value, labels);
  }
}

}  // namespace

std::string Agent::metrics_text() const {
  MetricsText m;
  const PipelineStats& p = pipeline_->stats();
  const RecoveryReport& recovery = buffer_->recovery();
  std::vector<DeliveryOutputStats> outputs = delivery_->stats();

  m.counter("assas_events_total", "Events read by the collectors and batched.", p.events_in);
  const std::vector<CollectorCounts>& per_collector = pipeline_->collector_counts();
  m.family("assas_collector_events_total", "counter",
           "Events that entered the pipeline from the collector.");
  for (const CollectorCounts& c : per_collector) {
    m.sample(c.events, {{"collector", c.collector}});
  }
  m.family("assas_collector_bytes_total", "counter",
           "Bytes of message text that entered the pipeline from the collector.");
  for (const CollectorCounts& c : per_collector) {
    m.sample(c.bytes, {{"collector", c.collector}});
  }
  m.counter("assas_batches_durable_total", "Batches made durable in the disk buffer.",
            p.batches_durable);
  m.gauge("assas_reading_paused",
          "1 while reading is paused because the disk buffer is full or refuses writes.",
          p.reading_paused_full ? 1 : 0);

  m.gauge("assas_buffer_bytes", "Bytes of the disk buffer on disk.", buffer_->size_bytes());
  m.gauge("assas_buffer_max_bytes", "The disk buffer's max_size.", buffer_->max_size_bytes());
  m.gauge("assas_buffer_batches", "Batches in the disk buffer not yet released.",
          buffer_->record_count());
  m.gauge("assas_buffer_events", "Events in the durable batches of the disk buffer.",
          buffer_->buffered_events());
  int64_t oldest = buffer_->oldest_buffered_at();
  m.family("assas_buffer_oldest_age_seconds", "gauge",
           "Age of the oldest batch not yet acknowledged by every output (0 if none).");
  m.sample_signed(oldest == 0 ? 0 : std::max<int64_t>(0, std::time(nullptr) - oldest));
  m.counter("assas_buffer_write_errors_total",
            "Disk buffer appends that failed (ENOSPC, EIO, ...); each is retried.",
            p.buffer_write_errors);
  m.counter("assas_chain_signatures_total", "Batches signed as hash chain checkpoints.",
            p.chain_signatures);
  m.counter("assas_chain_signature_failures_total",
            "Checkpoint signatures that failed; those batches were kept unsigned.",
            p.chain_signature_failures);
  uint64_t skipped_at_send = 0;
  for (const DeliveryOutputStats& o : outputs) {
    skipped_at_send += o.shipping.corrupt_batches_skipped;
  }
  m.counter("assas_buffer_corrupt_records_total",
            "Damaged disk buffer records skipped: at start, and when read back for sending.",
            recovery.corrupt_records + skipped_at_send);
  m.counter("assas_buffer_corrupt_bytes_total", "Bytes skipped as torn or corrupt at start.",
            recovery.skipped_bytes);

  m.family("assas_dropped_batches_total", "counter", "Batches dropped, by reason.");
  m.sample(p.dropped_newest_batches, {{"reason", "when_full_drop_newest"}});
  m.sample(p.dropped_oldest_batches, {{"reason", "when_full_drop_oldest"}});
  for (const DeliveryOutputStats& o : outputs) {
    m.sample(o.cut_loose_batches, {{"reason", "output_behind"}, {"output", o.name}});
  }
  m.family("assas_dropped_events_total", "counter", "Events dropped, by reason.");
  m.sample(p.dropped_newest_events, {{"reason", "when_full_drop_newest"}});
  m.sample(p.dropped_oldest_events, {{"reason", "when_full_drop_oldest"}});
  for (const DeliveryOutputStats& o : outputs) {
    m.sample(o.cut_loose_events, {{"reason", "output_behind"}, {"output", o.name}});
  }

  output_family(m, outputs, "assas_output_connected", "gauge",
                "1 while at least one lane of the output has a session.",
                [](const DeliveryOutputStats& o) -> uint64_t { return o.io.connected ? 1 : 0; });
  output_family(m, outputs, "assas_output_lanes", "gauge",
                "Connections of the output (one per endpoint with mode: loadbalance).",
                [](const DeliveryOutputStats& o) { return o.lanes; });
  output_family(m, outputs, "assas_output_connects_total", "counter", "Sessions established.",
                [](const DeliveryOutputStats& o) { return o.io.connects; });
  output_family(m, outputs, "assas_output_retries_total", "counter",
                "Connection attempts that failed before a session was up.",
                [](const DeliveryOutputStats& o) { return o.io.connect_failures; });
  output_family(m, outputs, "assas_output_reconnects_total", "counter",
                "Sessions after the first (each after a lost one).",
                [](const DeliveryOutputStats& o) { return o.shipping.reconnects; });
  output_family(m, outputs, "assas_output_disconnects_total", "counter", "Sessions lost.",
                [](const DeliveryOutputStats& o) { return o.io.disconnects; });
  output_family(m, outputs, "assas_output_heartbeat_timeouts_total", "counter",
                "Sessions dropped because the receiver stayed silent past heartbeat.timeout "
                "(RELP: nothing answered within ack_timeout).",
                [](const DeliveryOutputStats& o) { return o.io.heartbeat_timeouts; });
  output_family(m, outputs, "assas_output_protocol_errors_total", "counter",
                "Sessions dropped because the receiver broke the protocol.",
                [](const DeliveryOutputStats& o) { return o.io.protocol_errors; });
  output_family(m, outputs, "assas_output_failbacks_total", "counter",
                "Moves back to the preferred endpoint after a failover.",
                [](const DeliveryOutputStats& o) { return o.io.failbacks; });
  output_family(m, outputs, "assas_output_batches_sent_total", "counter",
                "Batches sent, resends included.",
                [](const DeliveryOutputStats& o) { return o.shipping.batches_sent; });
  output_family(m, outputs, "assas_output_acked_seq", "gauge",
                "Every batch up to this seq is acknowledged by the output.",
                [](const DeliveryOutputStats& o) { return o.done_upto; });
  output_family(m, outputs, "assas_output_behind_bytes", "gauge",
                "Disk buffer bytes (whole segments) the output has not had acknowledged.",
                [](const DeliveryOutputStats& o) { return o.behind_bytes; });
  output_family(m, outputs, "assas_output_inflight_batches", "gauge",
                "Batches sent and not yet acknowledged.",
                [](const DeliveryOutputStats& o) { return o.io.inflight_batches; });
  output_family(m, outputs, "assas_output_inflight_bytes", "gauge",
                "Bytes sent and not yet acknowledged (held in memory).",
                [](const DeliveryOutputStats& o) { return o.io.inflight_bytes; });
  output_family(m, outputs, "assas_output_inflight_bytes_peak", "gauge",
                "The most bytes one lane ever held unacknowledged.",
                [](const DeliveryOutputStats& o) { return o.io.inflight_bytes_peak; });
  output_family(m, outputs, "assas_output_messages_truncated_total", "counter",
                "syslog and relp: messages cut to max_message_size.",
                [](const DeliveryOutputStats& o) { return o.io.messages_truncated; });
  output_family(m, outputs, "assas_output_events_too_large_total", "counter",
                "nats and kafka: events larger than the engine takes in one message, left out.",
                [](const DeliveryOutputStats& o) { return o.io.events_too_large; });
  output_family(m, outputs, "assas_output_bytes_sent_total", "counter",
                "Bytes written to the output's connections (TLS included), resends included.",
                [](const DeliveryOutputStats& o) { return o.io.bytes_sent; });
  output_family(m, outputs, "assas_output_events_acked_total", "counter",
                "Events of the batches the output had acknowledged.",
                [](const DeliveryOutputStats& o) { return o.shipping.events_acked; });
  m.family("assas_output_ack_latency_seconds", "histogram",
           "Time from a batch's last send to its acknowledgement.");
  for (const DeliveryOutputStats& o : outputs) {
    const LatencyHistogram& h = o.shipping.ack_latency;
    m.histogram(LatencyHistogram::kBounds, h.counts(), h.sum_seconds(), {{"output", o.name}});
  }
  m.family("assas_tls_certificate_expiry_seconds", "gauge",
           "Seconds until the soonest notAfter of a configured certificate file (negative once "
           "expired).");
  int64_t now = std::time(nullptr);
  for (const CertificateExpiry& c : certificates_) {
    m.sample_signed(c.not_after - now, {{"owner", c.owner}, {"role", c.role}, {"file", c.file}});
  }
  collector_families(m, collectors_);
  return m.text();
}

HealthInputs Agent::health_inputs() const {
  HealthInputs inputs;
  inputs.reading_paused_full = pipeline_->stats().reading_paused_full;
  inputs.buffer_bytes = buffer_->size_bytes();
  int64_t oldest = buffer_->oldest_buffered_at();
  inputs.oldest_unacked_age_seconds =
      oldest == 0 ? 0 : static_cast<uint64_t>(std::max<int64_t>(0, std::time(nullptr) - oldest));
  auto now = std::chrono::steady_clock::now();
  for (const DeliveryOutputStats& o : delivery_->stats()) {
    HealthOutput output{o.name, o.has_session, 0};
    if (!o.has_session) {
      auto down = now - o.shipping.without_session_since;
      output.seconds_without_session = static_cast<uint64_t>(
          std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::seconds>(down).count()));
    }
    inputs.outputs.push_back(std::move(output));
  }
  return inputs;
}

}  // namespace assas::agent
