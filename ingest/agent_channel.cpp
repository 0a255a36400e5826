#include "ingest/agent_channel.h"

#include "base/log.h"

namespace assas::ingest {

// One trip to the pool: open the store if needed, write the batches, read the stored seq. The
// job owns its batches; the channel is only read by work() for the store, which no other
// thread touches while the job runs (one job at a time).
struct AgentChannel::Job {
  uv_work_t req{};
  AgentChannel* channel = nullptr;
  uint64_t session_serial = 0;  // the session whose batches and hello these are
  uint64_t stream_id = 0;
  bool answer_hello = false;
  std::vector<ReceivedBatch> batches;
  uint64_t bytes = 0;
  // Results, written by work(), read by after_work().
  Status status;
  uint64_t stored_upto = 0;
};

AgentChannel::AgentChannel(uv_loop_t* loop, std::string data_dir, std::string identity,
                           StoreLimits limits, std::function<void()> on_idle)
    : loop_(loop),
      data_dir_(std::move(data_dir)),
      identity_(std::move(identity)),
      limits_(limits),
      on_idle_(std::move(on_idle)) {}

AgentChannel::~AgentChannel() {
  // The pool would write into freed memory otherwise; IngestService waits for idle().
  ASSAS_CHECK(!running_, "an agent channel was destroyed while its store job ran");
}

void AgentChannel::attach(Listener* listener, uint64_t stream_id) {
  Listener* previous = listener_;
  listener_ = listener;
  ++session_serial_;
  stream_id_ = stream_id;
  // Batches of a replaced session stay queued: they were received whole and are written (the
  // store drops what it already has), and the new session's hello answer comes after them, so
  // that every ack it gets is for a seq it sent or was told about.
  hello_requested_ = true;
  if (previous != nullptr && previous != listener) {
    previous->on_replaced();
  }
  run_next();
}

void AgentChannel::detach(Listener* listener) {
  if (listener_ == listener) {
    listener_ = nullptr;
    ++session_serial_;
  }
}

void AgentChannel::enqueue(ReceivedBatch batch) {
  queued_bytes_ += batch.payload.size();
  queued_.push_back(std::move(batch));
  run_next();
}

void AgentChannel::run_next() {
  if (running_ || (queued_.empty() && !hello_requested_)) {
    return;
  }
  auto job = std::make_unique<Job>();
  job->req.data = job.get();
  job->channel = this;
  job->session_serial = session_serial_;
  job->stream_id = stream_id_;
  job->answer_hello = hello_requested_;
  hello_requested_ = false;
  job->batches.reserve(queued_.size());
  while (!queued_.empty()) {
    job->batches.push_back(std::move(queued_.front()));
    queued_.pop_front();
  }
  job->bytes = queued_bytes_;
  queued_bytes_ = 0;
  running_ = true;
  running_batches_ = job->batches.size();
  running_bytes_ = job->bytes;
  int rc = uv_queue_work(loop_, &job->req, &AgentChannel::work, &AgentChannel::after_work);
  ASSAS_CHECK(rc == 0, "uv_queue_work cannot fail with a work callback set");
  (void)job.release();  // owned by libuv until after_work
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
    Result<WriteOutcome> outcome = self->store_->write(job->stream_id, job->batches);
    job->status = outcome.status();
  }
  job->stored_upto = self->store_->stored_upto(job->stream_id);
  if (!job->status.is_ok() && job->status.code() != StatusCode::kCorruption) {
    // The disk failed us: the next job opens the store afresh, which cuts the files back to
    // what the state file committed.
    self->store_.reset();
  }
}

void AgentChannel::after_work(uv_work_t* req, int /*status*/) noexcept {
  // status is UV_ECANCELED only for uv_cancel, which we never call.
  std::unique_ptr<Job> job(static_cast<Job*>(req->data));
  job->channel->finish(*job);
}

void AgentChannel::finish(Job& job) {
  running_ = false;
  running_batches_ = 0;
  running_bytes_ = 0;
  const bool current = listener_ != nullptr && job.session_serial == session_serial_;
  if (!job.status.is_ok()) {
    ASSAS_LOG(kError, "cannot store batches from agent", log::kv("agent", identity_),
              log::kv("error", job.status.to_string()));
    // Batches queued behind the failed one must not be stored past the gap it leaves, or the
    // cumulative ack would cover it: the agent sends them again after the stored_upto it is
    // told. (They all belong to the failed job's session: a newer session sends nothing before
    // its hello answer, which is queued behind them.)
    queued_.clear();
    queued_bytes_ = 0;
    if (current) {
      Listener* listener = listener_;
      if (!job.batches.empty()) {
        listener->on_stored(job.stored_upto);  // what did get stored is acknowledged
      }
      listener->on_store_failed(job.status);
    }
  } else if (current) {
    Listener* listener = listener_;
    if (job.answer_hello) {
      listener->on_hello_answer(job.stored_upto);
    }
    if (!job.batches.empty() && listener_ == listener) {
      listener->on_stored(job.stored_upto);
    }
  }
  run_next();
  if (idle() && on_idle_) {
    on_idle_();
  }
}

}  // namespace assas::ingest
