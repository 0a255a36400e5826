#pragma once

// What every collector implements (collectors/ holds the implementations; agent/ never names one).
// Loop thread only.
//
// The durability contract: a collector never persists its own position. It pushes events with the
// position after each; the pipeline writes them to the disk buffer, and the checkpoint store
// records a position only once the events before it are durable there. At start-up the collector
// is handed the positions to resume from (checkpoint file merged with what the buffer holds).

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "agent/event.h"
#include "agent/event_sink.h"
#include "base/status.h"
#include "transport/tls/certificate_expiry.h"

namespace assas::agent {

// Why a collector is paused. Pauses are counted per reason, so that "buffer full" and "pipeline
// busy" cannot lift each other.
enum class PauseReason : uint8_t { kPipelineBusy = 0, kBufferFull = 1, kShutdown = 2 };
inline constexpr int kPauseReasonCount = 3;

// A collector's pauses, counted per reason: paused while any reason holds.
class PauseCounts {
 public:
  void pause(PauseReason why) { ++counts_[static_cast<int>(why)]; }
  // A resume without its pause is ignored.
  void resume(PauseReason why) {
    int& count = counts_[static_cast<int>(why)];
    count -= count > 0 ? 1 : 0;
  }
  bool paused() const {
    for (int count : counts_) {
      if (count > 0) {
        return true;
      }
    }
    return false;
  }

 private:
  int counts_[kPauseReasonCount] = {};
};

// One sample of a collector's own metrics (docs/metrics.md). The agent adds the label
// collector="<name>" and groups the samples of all collectors by family name, so two collectors of
// one type may report the same family.
struct CollectorMetric {
  std::string_view family;  // e.g. "assas_syslog_dropped_total"; a constant of the collector
  std::string_view type;    // "counter" or "gauge"
  std::string_view help;
  std::vector<std::pair<std::string_view, std::string>> labels;  // besides collector
  uint64_t value = 0;
};

class Collector {
 public:
  virtual ~Collector() = default;
  virtual const std::string& name() const = 0;
  // Starts reading. positions holds the durable position of every source known from earlier runs
  // (all collectors' sources: pick yours by source_id).
  virtual Status start(EventSink& sink, const PositionMap& positions) = 0;
  virtual void pause(PauseReason why) = 0;
  virtual void resume(PauseReason why) = 0;
  // Events up to position in source_id are durable. Informational (e.g. to let go of a rotated
  // file once all of it is durable); the checkpoint itself is persisted by the pipeline.
  virtual void on_durable(const std::string& source_id, const SourcePosition& position) {
    (void)source_id;
    (void)position;
  }
  // Appends this collector's own metrics (none by default).
  virtual void metrics(std::vector<CollectorMetric>& out) const { (void)out; }
  // Appends the certificate files this collector is configured with (for their expiry metric).
  virtual void certificate_files(std::vector<transport::CertificateFile>& out) const { (void)out; }
  // Closes every handle; on_closed runs exactly once, after which the collector may be destroyed.
  virtual void close(std::function<void()> on_closed) = 0;
};

}  // namespace assas::agent
