#pragma once

// The loop-side owner of one agent identity's AgentStore. Everything that touches the store runs
// as a job on libuv's thread pool, one job at a time and in arrival order, so the store needs no
// locks and acknowledgements come out in seq order. Batches that arrive while a job runs are
// written together by the next job (group commit: one write, one fdatasync, one state commit,
// one ack).
//
// At most one session (connection) per stream is attached; a new connection of the same identity
// and stream replaces the old one, which is told so and closes. Sessions of other streams of the
// same identity (the lanes of a load-balancing agent, one of which failed over here) share the
// store and coexist. Sessions are told apart by a serial number, never by address, so a job
// finishing for a session that is gone cannot be mistaken for a new session that happens to live
// at the same address.
//
// Each job hands back to the loop what its store committed (StoreCounts), which finish() adds to
// the totals it was given: the totals are only ever touched on the loop thread.
//
// Loop thread only. The channel must outlive its jobs: IngestService keeps every channel until
// the loop ends and waits for idle() before stopping. totals must outlive the channel.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <uv.h>

#include "ingest/agent_store.h"
#include "ingest/ingest_stats.h"

namespace assas::ingest {

class AgentChannel {
 public:
  // What a session hears back; all calls on the loop thread.
  class Listener {
   public:
    virtual ~Listener() = default;
    // The store is open and holds everything queued before the hello: answer it.
    virtual void on_hello_answer(uint64_t stored_upto) = 0;
    // Everything up to stored_upto of the session's stream is durable.
    virtual void on_stored(uint64_t stored_upto) = 0;
    // Storing failed (a corrupt batch, the disk); the session must close with why.
    virtual void on_store_failed(const Status& why) = 0;
    // Another connection of the same identity took over; close this one.
    virtual void on_replaced() = 0;
  };

  // on_idle runs whenever the last job finishes with nothing queued (used for a clean stop).
  AgentChannel(uv_loop_t* loop, std::string data_dir, std::string identity, StoreLimits limits,
               StoreCounts& totals, std::function<void()> on_idle);
  ~AgentChannel();
  AgentChannel(const AgentChannel&) = delete;
  AgentChannel& operator=(const AgentChannel&) = delete;

  // Makes listener the session for stream_id of this identity from now on, and queues its hello
  // answer behind the batches already queued (so the answer reflects them). The previous session
  // of that stream, if any, gets on_replaced() and hears nothing else.
  void attach(Listener* listener, uint64_t stream_id);
  // The session is gone; nothing more is said to it. Its queued batches are still written.
  void detach(Listener* listener);
  void enqueue(uint64_t stream_id, ReceivedBatch batch);

  // Batches (and their payload bytes) queued or being written.
  size_t pending_batches() const { return queued_.size() + running_batches_; }
  uint64_t pending_bytes() const { return queued_bytes_ + running_bytes_; }
  bool idle() const { return !running_ && queued_.empty() && hello_streams_.empty(); }
  const std::string& identity() const { return identity_; }

 private:
  struct Job;
  struct Session {
    Listener* listener = nullptr;
    uint64_t serial = 0;
  };
  struct Queued {
    uint64_t stream_id = 0;
    ReceivedBatch batch;
  };
  void run_next();
  static void work(uv_work_t* req) noexcept;
  static void after_work(uv_work_t* req, int status) noexcept;
  void finish(Job& job);

  uv_loop_t* loop_;
  std::string data_dir_;
  std::string identity_;
  StoreLimits limits_;
  StoreCounts& totals_;
  std::function<void()> on_idle_;
  std::unique_ptr<AgentStore> store_;     // opened by the first job; touched only inside jobs
  std::map<uint64_t, Session> sessions_;  // by stream id
  uint64_t last_serial_ = 0;              // each attach() takes the next number
  std::deque<Queued> queued_;
  uint64_t queued_bytes_ = 0;
  std::set<uint64_t> hello_streams_;  // streams whose session waits for its hello answer
  bool running_ = false;
  size_t running_batches_ = 0;
  uint64_t running_bytes_ = 0;
};

}  // namespace assas::ingest
