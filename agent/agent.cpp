#include "agent/agent.h"

#include <algorithm>

#include "base/file_util.h"
#include "base/log.h"

namespace assas::agent {

Agent::Agent(uv_loop_t* loop) : loop_(loop) {}

Agent::~Agent() {
  ASSAS_CHECK(stage_ == StopStage::kDone || worker_ == nullptr,
              "Agent destroyed while running; call stop() and wait for it");
}

Status Agent::start(AgentOptions options, std::vector<std::unique_ptr<Collector>> collectors,
                    const OutputFactory& make_output) {
  collectors_ = std::move(collectors);
  ASSAS_RETURN_IF_ERROR(ensure_private_dir(options.data_dir));
  worker_ = std::make_unique<Worker>(loop_);
  if (options.buffer.dir.empty()) {
    options.buffer.dir = options.data_dir + "/buffer";
  }
  Result<std::unique_ptr<DiskBuffer>> buffer = DiskBuffer::open(loop_, *worker_, options.buffer);
  if (!buffer.is_ok()) {
    return buffer.status().with_context("opening the disk buffer");
  }
  buffer_ = std::move(buffer).value();
  const RecoveryReport& recovery = buffer_->recovery();
  if (recovery.corrupt_records > 0 || recovery.skipped_bytes > 0) {
    ASSAS_LOG(kError, "the disk buffer had corrupt or torn records; they were skipped",
              log::kv("corrupt_records", recovery.corrupt_records),
              log::kv("skipped_bytes", recovery.skipped_bytes));
    for (const std::string& problem : recovery.problems) {
      ASSAS_LOG(kError, "disk buffer problem", log::kv("detail", problem));
    }
  }
  Result<std::unique_ptr<CheckpointStore>> store =
      CheckpointStore::open(options.data_dir + "/checkpoints", *worker_);
  if (!store.is_ok()) {
    return store.status();
  }
  store_ = std::move(store).value();
  store_->merge_buffer_positions(recovery);

  uint64_t last_seq = std::max(buffer_->last_seq(), store_->covered_seq());
  options.pipeline.first_seq = last_seq + 1;
  // The chain continues from the newest record, also past seqs the checkpoints cover and the
  // buffer never held (dropped by when_full: drop_newest): a batch links to its stored
  // predecessor, whatever seq it has.
  options.pipeline.chain.head = recovery.chain_head;
  ASSAS_LOG(kInfo, "disk buffer recovered", log::kv("records", recovery.records),
            log::kv("unreleased", buffer_->record_count()), log::kv("next_seq", last_seq + 1),
            log::kv("sources", static_cast<uint64_t>(store_->positions().size())),
            log::kv("chain_continues_after", recovery.chain_head ? recovery.chain_head->seq : 0));

  Result<std::vector<OutputLanes>> outputs = make_output(buffer_->stream_id());
  if (!outputs.is_ok()) {
    return outputs.status();
  }
  for (const OutputLanes& output : *outputs) {
    std::vector<transport::CertificateFile> files;
    if (!output.lanes.empty()) {
      output.lanes.front()->certificate_files(files);  // every lane has the same TLS settings
    }
    note_certificates("output:" + output.name, files);
  }
  for (const auto& collector : collectors_) {
    std::vector<transport::CertificateFile> files;
    collector->certificate_files(files);
    note_certificates("collector:" + collector->name(), files);
  }
  delivery_ = std::make_unique<Delivery>(*buffer_, std::move(outputs).value(), last_seq);
  pipeline_ = std::make_unique<Pipeline>(loop_, *worker_, *buffer_, *store_, options.pipeline);
  pipeline_->set_on_durable([this](uint64_t seq) { delivery_->on_durable(seq); });
  pipeline_->set_drop_oldest([this] { return delivery_->drop_oldest(); });
  trimmer_ = std::make_unique<MemoryTrimmer>(loop_, std::chrono::seconds(2));
  delivery_->set_on_released([this] {
    pipeline_->on_buffer_space();
    if (buffer_->record_count() == 0) {
      trimmer_->arm();  // everything is at the receiver: if it stays quiet, give memory back
    }
  });
  store_->set_on_persisted([this](uint64_t seq) { delivery_->on_checkpointed(seq); });
  delivery_->on_checkpointed(store_->persisted_seq());
  if (options.metrics.path.empty()) {
    options.metrics.path = options.data_dir + "/metrics.prom";
  }
  metrics_ = std::make_unique<MetricsFile>(loop_, *worker_, options.metrics,
                                           [this] { return metrics_text(); });
  if (options.metrics_server.enabled) {
    endpoint_ = std::make_unique<MetricsEndpoint>(
        loop_, options.metrics_server, [this] { return metrics_text(); },
        [this] { return health_inputs(); });
    ASSAS_RETURN_IF_ERROR(endpoint_->start());
  }

  ASSAS_RETURN_IF_ERROR(delivery_->start());
  for (auto& collector : collectors_) {
    pipeline_->add_collector(collector.get());
    Status s = collector->start(*pipeline_, store_->positions());
    if (!s.is_ok()) {
      return s.with_context("starting collector '" + collector->name() + "'");
    }
  }
  return Status::ok();
}

void Agent::stop(std::function<void()> on_stopped) {
  if (stage_ != StopStage::kRunning) {
    return;
  }
  on_stopped_ = std::move(on_stopped);
  stage_ = StopStage::kCollectors;
  collectors_open_ = collectors_.size();
  if (collectors_open_ == 0) {
    stop_step();
    return;
  }
  for (auto& collector : collectors_) {
    collector->close([this] {
      if (--collectors_open_ == 0) {
        stop_step();
      }
    });
  }
}

// Each stage starts when the previous one has finished, in the order that keeps the guarantee:
// no more reads, then everything read is made durable, then checkpoints are written, then the
// connection goes, then the files and the thread.
void Agent::stop_step() {
  switch (stage_) {
    case StopStage::kCollectors:
      stage_ = StopStage::kPipeline;
      if (pipeline_) {
        pipeline_->shutdown([this] { stop_step(); });
        return;
      }
      [[fallthrough]];
    case StopStage::kPipeline:
      stage_ = StopStage::kCheckpoints;
      if (store_) {
        store_->close([this] { stop_step(); });
        return;
      }
      [[fallthrough]];
    case StopStage::kCheckpoints:
      stage_ = StopStage::kOutput;
      if (delivery_) {
        delivery_->close([this] { stop_step(); });
        return;
      }
      [[fallthrough]];
    case StopStage::kOutput:
      stage_ = StopStage::kEndpoint;
      if (endpoint_) {
        endpoint_->close([this] { stop_step(); });
        return;
      }
      [[fallthrough]];
    case StopStage::kEndpoint:
      stage_ = StopStage::kMetrics;
      if (metrics_) {
        metrics_->close([this] { stop_step(); });  // writes the final figures first
        return;
      }
      [[fallthrough]];
    case StopStage::kMetrics:
      stage_ = StopStage::kTrimmer;
      if (trimmer_) {
        trimmer_->close([this] { stop_step(); });
        return;
      }
      [[fallthrough]];
    case StopStage::kTrimmer:
      stage_ = StopStage::kBuffer;
      if (buffer_) {
        buffer_->close([this] { stop_step(); });
        return;
      }
      [[fallthrough]];
    case StopStage::kBuffer:
      stage_ = StopStage::kWorker;
      if (worker_) {
        worker_->close([this] { stop_step(); });
        return;
      }
      [[fallthrough]];
    case StopStage::kWorker:
      stage_ = StopStage::kDone;
      if (on_stopped_) {
        auto done = std::move(on_stopped_);
        done();
      }
      return;
    case StopStage::kRunning:
    case StopStage::kDone:
      return;
  }
}

void Agent::note_certificates(const std::string& owner,
                              const std::vector<transport::CertificateFile>& files) {
  for (const transport::CertificateFile& file : files) {
    Result<int64_t> not_after = transport::soonest_not_after(file.path);
    if (!not_after.is_ok()) {
      // The TLS context has loaded the file already; this only loses the metric's sample.
      ASSAS_LOG(kWarn, "cannot read a certificate's expiry; its metric is left out",
                log::kv("owner", owner), log::kv("file", file.path),
                log::kv("error", not_after.status().to_string()));
      continue;
    }
    certificates_.push_back(CertificateExpiry{owner, file.role, file.path, *not_after});
  }
}

}  // namespace assas::agent
