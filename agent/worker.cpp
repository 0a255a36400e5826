#include "agent/worker.h"

#include "base/log.h"

namespace assas::agent {

Worker::Worker(uv_loop_t* loop) {
  int rc = uv_async_init(loop, &async_, &Worker::on_async);
  ASSAS_CHECK(rc == 0, "uv_async_init cannot fail for a valid loop");
  async_.data = this;
  thread_ = std::thread([this] { run(); });
}

Worker::~Worker() {
  ASSAS_CHECK(closed_, "Worker destroyed before close() completed");
}

void Worker::post(Job job, Done done) {
  ++pending_;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(Task{std::move(job), std::move(done)});
  }
  wake_.notify_one();
}

void Worker::run() {
  for (;;) {
    Task task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {
        return;  // stopping, and every queued job has run
      }
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task.job();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      finished_.push_back(std::move(task.done));
    }
    uv_async_send(&async_);  // cannot fail on an initialised handle that is not closing
  }
}

void Worker::on_async(uv_async_t* handle) noexcept {
  static_cast<Worker*>(handle->data)->deliver();
}

void Worker::deliver() {
  std::deque<Done> ready;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ready.swap(finished_);
  }
  for (Done& done : ready) {
    --pending_;
    if (done) {
      done();
    }
  }
}

void Worker::close(std::function<void()> on_closed) {
  on_closed_ = std::move(on_closed);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();  // runs what is queued: those are writes the caller is waiting to be durable
  deliver();       // completions of the last jobs, before the handle goes
  closer_.close(&async_);
  closer_.when_closed(
      [](void* self) {
        auto* worker = static_cast<Worker*>(self);
        worker->closed_ = true;
        auto done = std::move(worker->on_closed_);
        if (done) {
          done();
        }
      },
      this);
}

}  // namespace assas::agent
