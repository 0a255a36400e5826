#include "ingest/agent_channel.h"

#include "base/log.h"

namespace assas::ingest {

// One trip to the pool: open the store if needed, write the batches of each stream, read what each
// stream has stored. The job owns its batches; the channel is only read by work() for the store,
// which no other thread touches while the job runs (one job at a time).
struct AgentChannel::Job {
  struct Group {  // one stream's batches (possibly none) and hello
    uint64_t stream_id = 0;
    uint64_t session_serial = 0;  // of the stream's session when the job was made
    bool answer_hello = false;
    std::vector<ReceivedBatch> batches;
    // Results, written by work(), read by after_work().
    Status status;
    uint64_t stored_upto = 0;
  };
  uv_work_t req{};
  AgentChannel* channel = nullptr;
  std::vector<Group> groups;
  StoreCounts counts;  // what work() committed, added to the totals by finish()
  uint64_t batches = 0;
  uint64_t bytes = 0;

  Group& group_of(uint64_t stream_id) {
    for (Group& g : groups) {
      if (g.stream_id == stream_id) {
        return g;
      }
    }
    Group& g = groups.emplace_back();
    g.stream_id = stream_id;
    return g;
  }
};

AgentChannel::AgentChannel(uv_loop_t* loop, std::string data_dir, std::string identity,
                           StoreLimits limits, StoreCounts& totals, std::function<void()> on_idle)
    : loop_(loop),
      data_dir_(std::move(data_dir)),
      identity_(std::move(identity)),
      limits_(limits),
      totals_(totals),
      on_idle_(std::move(on_idle)) {}

AgentChannel::~AgentChannel() {
  // The pool would write into freed memory otherwise; IngestService waits for idle().
  ASSAS_CHECK(!running_, "an agent channel was destroyed while its store job ran");
}

void AgentChannel::attach(Listener* listener, uint64_t stream_id) {
  Session& session = sessions_[stream_id];
  Listener* previous = session.listener;
  session.listener = listener;
  session.serial = ++last_serial_;
  // Batches of a replaced session stay queued: they were received whole and are written (the
  // store drops what it already has), and the new session's hello answer comes after them, so
  // that every ack it gets is for a seq it sent or was told about.
  hello_streams_.insert(stream_id);
  if (previous != nullptr && previous != listener) {
    previous->on_replaced();
  }
  run_next();
}

void AgentChannel::detach(Listener* listener) {
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    if (it->second.listener == listener) {
      sessions_.erase(it);
      return;
    }
  }
}

void AgentChannel::enqueue(uint64_t stream_id, ReceivedBatch batch) {
  queued_bytes_ += batch.payload.size();
  queued_.push_back(Queued{stream_id, std::move(batch)});
  run_next();
}

void AgentChannel::run_next() {
  if (running_ || (queued_.empty() && hello_streams_.empty())) {
    return;
  }
  auto job = std::make_unique<Job>();
  job->req.data = job.get();
  job->channel = this;
  // Batches first, in arrival order within each stream, then the hellos: an answer reflects every
  // batch queued before it.
  while (!queued_.empty()) {
    Job::Group& group = job->group_of(queued_.front().stream_id);
    group.batches.push_back(std::move(queued_.front().batch));
    queued_.pop_front();
    ++job->batches;
  }
  for (uint64_t stream_id : hello_streams_) {
    job->group_of(stream_id).answer_hello = true;
  }
  hello_streams_.clear();
  for (Job::Group& group : job->groups) {
    auto session = sessions_.find(group.stream_id);
    group.session_serial = session == sessions_.end() ? 0 : session->second.serial;
  }
  job->bytes = queued_bytes_;
  queued_bytes_ = 0;
  running_ = true;
  running_batches_ = job->batches;
  running_bytes_ = job->bytes;
  int rc = uv_queue_work(loop_, &job->req, &AgentChannel::work, &AgentChannel::after_work);
  ASSAS_CHECK(rc == 0, "uv_queue_work cannot fail with a work callback set");
  (void)job.release();  // owned by libuv until after_work
}

void AgentChannel::work(uv_work_t* req) noexcept {
  auto* job = static_cast<Job*>(req->data);
  AgentChannel* self = job->channel;
  for (Job::Group& group : job->groups) {
    if (self->store_ == nullptr) {
      Result<std::unique_ptr<AgentStore>> store =
          AgentStore::open(self->data_dir_, self->identity_, self->limits_);
      if (!store.is_ok()) {
        group.status = store.status();
        continue;
      }
      self->store_ = std::move(store).value();
    }
    if (!group.batches.empty()) {
      Result<WriteOutcome> outcome = self->store_->write(group.stream_id, group.batches);
      group.status = outcome.status();
      job->counts.add(self->store_->take_counts());
    }
    group.stored_upto = self->store_->stored_upto(group.stream_id);
    if (!group.status.is_ok() && group.status.code() != StatusCode::kCorruption) {
      // The disk failed us: the next store use opens it afresh, which cuts the files back to
      // what the state file committed.
      self->store_.reset();
    }
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
  totals_.add(job.counts);
  for (Job::Group& group : job.groups) {
    auto session = sessions_.find(group.stream_id);
    const bool current =
        session != sessions_.end() && session->second.serial == group.session_serial;
    Listener* listener = current ? session->second.listener : nullptr;
    if (!group.status.is_ok()) {
      ASSAS_LOG(kError, "cannot store batches from agent", log::kv("agent", identity_),
                log::kv("stream", group.stream_id), log::kv("error", group.status.to_string()));
      // Batches of this stream queued behind the failed one must not be stored past the gap it
      // leaves, or the cumulative ack would cover it: the agent sends them again after the
      // stored_upto it is told. (They all belong to this stream's session: a newer session sends
      // nothing before its hello answer, which is queued behind them.)
      for (auto it = queued_.begin(); it != queued_.end();) {
        if (it->stream_id == group.stream_id) {
          queued_bytes_ -= it->batch.payload.size();
          it = queued_.erase(it);
        } else {
          ++it;
        }
      }
      if (listener != nullptr) {
        if (!group.batches.empty()) {
          listener->on_stored(group.stored_upto);  // what did get stored is acknowledged
        }
        listener->on_store_failed(group.status);
      }
      continue;
    }
    if (listener == nullptr) {
      continue;
    }
    if (group.answer_hello) {
      listener->on_hello_answer(group.stored_upto);
    }
    // The answer may have closed the session (a failed send): look it up again.
    session = sessions_.find(group.stream_id);
    if (!group.batches.empty() && session != sessions_.end() &&
        session->second.listener == listener) {
      listener->on_stored(group.stored_upto);
    }
  }
  run_next();
  if (idle() && on_idle_) {
    on_idle_();
  }
}

}  // namespace assas::ingest
