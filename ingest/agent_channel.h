#pragma once

// The loop-side owner of one agent identity's AgentStore. Everything that touches the store runs
// as a job on libuv's thread pool, one job at a time and in arrival order, so the store needs no
// locks and acknowledgements come out in seq order. Batches that arrive while a job runs are
// written together by the next job (group commit: one write, one fdatasync, one state commit).
//
// At most one session (connection) is attached; a new connection of the same identity replaces
// the old one. Loop thread only; the channel outlives its jobs (the service waits for them).

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ingest/agent_store.h"

namespace assas::ingest {

class AgentChannel {
 public:
  // What a session hears back; all calls on the loop thread.
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void on_hello_answer(uint64_t stored_upto) = 0;
    virtual void on_stored(uint64_t stored_upto) = 0;
    virtual void on_store_failed(const Status& why) = 0;
  };

  AgentChannel(uv_loop_t* loop, std::string data_dir, std::string identity, StoreLimits limits);
  AgentChannel(const AgentChannel&) = delete;
  AgentChannel& operator=(const AgentChannel&) = delete;

  // The session for this identity from now on; the previous one no longer hears anything.
  void attach(Listener* listener, uint64_t stream_id, std::string host);
  void detach(Listener* listener);
  // Queues the hello answer behind the jobs already queued (so it reflects them).
  void request_hello_answer();
  void enqueue(ReceivedBatch batch);
  // Batches queued or being written.
  size_t pending_batches() const { return queued_.size() + running_batches_; }
  bool busy() const { return running_; }

 private:
  struct Job;
  void run_next();
  static void work(uv_work_t* req) noexcept;
  static void after_work(uv_work_t* req, int status) noexcept;

  uv_loop_t* loop_;
  std::string data_dir_;
  std::string identity_;
  StoreLimits limits_;
  std::unique_ptr<AgentStore> store_;  // opened by the first job; touched only inside jobs
  Listener* listener_ = nullptr;
  uint64_t stream_id_ = 0;
  std::string host_;
  std::deque<ReceivedBatch> queued_;
  bool hello_requested_ = false;
  bool running_ = false;
  size_t running_batches_ = 0;
};

}  // namespace assas::ingest
