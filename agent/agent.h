#pragma once

// The running agent: wires collectors → Pipeline → DiskBuffer → Delivery (a Shipper per output
// lane) → Outputs, with the
// CheckpointStore on the durable side and the Worker thread underneath. main.cpp builds the
// pieces that need concrete types (collectors, the output) and hands them over; everything here
// speaks only the interfaces.
//
// Start-up order matters: the buffer is recovered first, then the checkpoint file is merged with
// the positions recorded in the buffer (the later wins), then sequence numbers continue after the
// highest seen anywhere, and only then do the collectors start.
//
// Contract: loop thread only; loop outlives the agent. stop() before destroying it.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "agent/buffer/disk_buffer.h"
#include "agent/checkpoint_store.h"
#include "agent/collector.h"
#include "agent/delivery.h"
#include "agent/health.h"
#include "agent/memory_trimmer.h"
#include "agent/metrics_endpoint.h"
#include "agent/metrics_file.h"
#include "agent/pipeline/pipeline.h"
#include "agent/worker.h"
#include "base/status.h"
#include "transport/output.h"

namespace assas::agent {

struct AgentOptions {
  std::string data_dir;
  PipelineOptions pipeline;             // first_seq is set by the agent
  DiskBufferOptions buffer;             // dir defaults to <data_dir>/buffer
  MetricsFileOptions metrics;           // path defaults to <data_dir>/metrics.prom
  MetricsServerOptions metrics_server;  // /metrics and /health over HTTP; off by default
};

// Makes the outputs once the buffer's stream id is known.
using OutputFactory = std::function<Result<std::vector<OutputLanes>>(uint64_t stream_id)>;

class Agent {
 public:
  explicit Agent(uv_loop_t* loop);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Opens the buffer and checkpoints, starts the output and the collectors. On failure, call stop()
  // and run the loop until it completes, as after a normal run: some handles may be open.
  Status start(AgentOptions options, std::vector<std::unique_ptr<Collector>> collectors,
               const OutputFactory& make_output);

  // Graceful stop: collectors stop reading, the current batch is flushed and made durable,
  // checkpoints are written, connections closed; on_stopped runs once at the end.
  void stop(std::function<void()> on_stopped);

  const PipelineStats& pipeline_stats() const { return pipeline_->stats(); }
  uint64_t acked_upto() const { return delivery_ ? delivery_->acked_upto() : 0; }
  // Every metric, in the Prometheus text format (docs/metrics.md).
  std::string metrics_text() const;
  // What /health evaluates (agent/health.h).
  HealthInputs health_inputs() const;
  // The HTTP endpoint's port (0 without one); tests bind port 0.
  int metrics_port() const { return endpoint_ ? endpoint_->bound_port() : 0; }

 private:
  void stop_step();
  // Reads the notAfter of each file now, so that the metric never reads a file later.
  void note_certificates(const std::string& owner,
                         const std::vector<transport::CertificateFile>& files);

  // One configured certificate file, for assas_tls_certificate_expiry_seconds.
  struct CertificateExpiry {
    std::string owner;  // "output:<name>" or "collector:<name>"
    std::string role;   // "ca" or "cert"
    std::string file;
    int64_t not_after = 0;  // seconds since the Unix epoch, the soonest in the file
  };

  uv_loop_t* loop_;
  std::unique_ptr<Worker> worker_;
  std::unique_ptr<DiskBuffer> buffer_;
  std::unique_ptr<CheckpointStore> store_;
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<Delivery> delivery_;
  std::unique_ptr<MemoryTrimmer> trimmer_;
  std::unique_ptr<MetricsFile> metrics_;
  std::unique_ptr<MetricsEndpoint> endpoint_;
  std::vector<CertificateExpiry> certificates_;
  std::vector<std::unique_ptr<Collector>> collectors_;
  enum class StopStage {
    kRunning,
    kCollectors,
    kPipeline,
    kCheckpoints,
    kOutput,
    kEndpoint,
    kMetrics,
    kTrimmer,
    kBuffer,
    kWorker,
    kDone
  };
  StopStage stage_ = StopStage::kRunning;
  size_t collectors_open_ = 0;
  std::function<void()> on_stopped_;
};

}  // namespace assas::agent
