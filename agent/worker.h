#pragma once

// The agent's one dedicated worker thread. Heavy or blocking work (zstd compression of batches,
// disk-buffer writes and fsyncs, checkpoint writes) runs here in FIFO order, off the event loop
// and off libuv's small shared thread pool, whose threads the fs requests need. Jobs run in the
// order they were posted, which is what keeps the buffer's records in sequence order.
//
// post(job, done): job runs on the worker thread; done runs afterwards on the loop thread (through
// one uv_async_t and a locked queue, since uv_async_send coalesces). The worker is the only place
// in the agent that owns a std::thread.
//
// Contract: construct, post and close on the loop thread. close() finishes the queued jobs, joins
// the thread and closes the async handle; on_closed runs once, after which it may be destroyed.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include <uv.h>

#include "base/uv_util.h"

namespace assas::agent {

class Worker {
 public:
  using Job = std::function<void()>;
  using Done = std::function<void()>;

  explicit Worker(uv_loop_t* loop);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void post(Job job, Done done);
  // Jobs queued but not yet completed on the loop (for backpressure decisions).
  size_t pending() const { return pending_; }
  void close(std::function<void()> on_closed);

 private:
  struct Task {
    Job job;
    Done done;
  };
  static void on_async(uv_async_t* handle) noexcept;
  void run();
  void deliver();

  uv_async_t async_{};
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Task> queue_;     // guarded by mutex_: waiting to run
  std::deque<Done> finished_;  // guarded by mutex_: ran, waiting for the loop
  bool stopping_ = false;      // guarded by mutex_
  size_t pending_ = 0;         // loop thread only
  bool closed_ = false;
  std::function<void()> on_closed_;
  HandleCloser closer_;
};

}  // namespace assas::agent
