#include "ingest/agent_channel.h"

#include "base/log.h"

namespace assas::ingest {

// One trip to the pool: open the store if needed, write the batches, read the stored seq.
struct AgentChannel::Job {
  uv_work_t req{};
  AgentChannel* channel = nullptr;
  Listener* listener = nullptr;  // the session that asked, to drop answers for a replaced one
  uint64_t stream_id = 0;
  std::string host;
  bool answer_hello = false;
  std::vector<ReceivedBatch> batches;
  // results
  Status status;
  uint64_t stored_upto = 0;
};

AgentChannel::AgentChannel(uv_loop_t* loop, std::string data_dir, std::string identity,
                           StoreLimits limits)
    : loop_(loop), data_dir_(std::move(data_dir)), identity_(std::move(identity)), limits_(limits) {}

void AgentChannel::attach(Listener* listener, uint64_t stream_id, std::string host) {
  listener_ = listener;
  stream_id_ = stream_id;
  host_ = std::move(host);
  // Batches of a replaced session stay queued: they were received and will be written, and the
  // new session's hello answer is queued behind them.
}

void AgentChannel::detach(Listener* listener) {
  if (listener_ == listener) {
    listener_ = nullptr;
  }
}

void AgentChannel::request_hello_answer() {
  hello_requested_ = true;
  run_next();
}

void AgentChannel::enqueue(ReceivedBatch batch) {
  queued_.push_back(std::move(batch));
  run_next();
}

void AgentChannel::run_next() {
  if (running_ || (queued_.empty() && !hello_requested_)) {
    return;
  }
  auto* job = new Job;
  job->req.data = job;
  job->channel = this;
  job->listener = listener_;
  job->stream_id = stream_id_;
  job->host = host_;
  job->answer_hello = hello_requested_;
  hello_requested_ = false;
  job->batches.reserve(queued_.size());
  while (!queued_.empty()) {
    job->batches.push_back(std::move(queued_.front()));
    queued_.pop_front();
  }
  running_ = true;
  running_batches_ = job->batches.size();
  int rc = uv_queue_work(loop_, &job->req, &AgentChannel::work, &AgentChannel::after_work);
  ASSAS_CHECK(rc == 0, "uv_queue_work cannot fail with both callbacks set");
}

void AgentChannel::work(uv_work_t* req) noexcept {
  auto* job = static_cast<Job*>(req->data);
  AgentChannel* self = job->channel;
  if (self->store_ == nullptr) {
    Result<std::unique_ptr<AgentStore>> store =
        AgentStore::open(self->data_dir_, self->identity_, self->limits_);
    if (!store.is_ok()) {
      job->status = store.status();
      return;
    }
    self->store_ = std::move(store).value();
  }
  if (!job->batches.empty()) {
    Result<WriteOutcome> outcome = self->store_->write(job->stream_id, job->host, job->batches);
    if (!outcome.is_ok()) {
      job->status = outcome.status();
    }
  }
  job->stored_upto = self->store_->stored_upto(job->stream_id);
}

void AgentChannel::after_work(uv_work_t* req, int /*status*/) noexcept {
  std::unique_ptr<Job> job(static_cast<Job*>(req->data));
  AgentChannel* self = job->channel;
  self->running_ = false;
  self->running_batches_ = 0;
  if (!job->status.is_ok()) {
    // Batches queued behind a refused one must not be stored past the gap it leaves: the agent
    // sends them again after stored_upto.
    self->queued_.clear();
  }
  Listener* listener = self->listener_;
  if (listener != nullptr && listener == job->listener) {
    if (!job->status.is_ok()) {
      ASSAS_LOG(kError, "cannot store batches", log::kv("agent", self->identity_),
                log::kv("error", job->status.to_string()));
      listener->on_stored(job->stored_upto);  // what did get stored is acknowledged
      listener->on_store_failed(job->status);
    } else {
      if (job->answer_hello) {
        listener->on_hello_answer(job->stored_upto);
      }
      if (!job->batches.empty()) {
        listener->on_stored(job->stored_upto);
      }
    }
  } else if (job->answer_hello && self->listener_ != nullptr) {
    self->hello_requested_ = true;  // asked by a replaced session; the new one still needs one
  }
  self->run_next();
}

}  // namespace assas::ingest
