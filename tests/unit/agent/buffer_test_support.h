#pragma once

// Shared by the disk buffer and checkpoint store tests: a loop with a Worker, bounded waits, and
// record builders.

#include <functional>
#include <memory>
#include <string>

#include <catch2/catch.hpp>
#include <uv.h>

#include "agent/buffer/disk_buffer.h"
#include "agent/worker.h"

namespace assas::agent::test {

// Runs the loop until done() is true or 10 s passed (then fails the test).
inline void run_until(uv_loop_t* loop, const std::function<bool()>& done) {
  uv_timer_t timer;
  bool expired = false;
  REQUIRE(uv_timer_init(loop, &timer) == 0);
  timer.data = &expired;
  REQUIRE(uv_timer_start(
              &timer, [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; }, 10000, 0) == 0);
  while (!done() && !expired) {
    uv_run(loop, UV_RUN_ONCE);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&timer), nullptr);
  uv_run(loop, UV_RUN_NOWAIT);  // runs the close callback while timer is still in scope
  REQUIRE(!expired);
}

inline BufferRecord make_record(uint64_t seq, size_t payload_bytes = 40,
                                const std::string& source = "file:a") {
  BufferRecord r;
  r.seq = seq;
  r.event_count = static_cast<uint32_t>(seq % 7 + 1);
  r.raw_size = static_cast<uint32_t>(payload_bytes * 2);
  r.codec = transport::Codec::kNone;
  r.positions = {{source, SourcePosition{seq * 100, "tok" + std::to_string(seq)}}};
  std::string payload(payload_bytes, '\0');
  for (size_t i = 0; i < payload_bytes; ++i) {
    payload[i] = static_cast<char>('a' + (seq * 31 + i) % 26);
  }
  r.payload = std::make_shared<const std::string>(std::move(payload));
  return r;
}

// A loop and a Worker; finish() closes the worker and proves the loop clean.
class LoopHarness {
 public:
  LoopHarness() {
    REQUIRE(uv_loop_init(&loop_) == 0);
    worker_ = new Worker(&loop_);
  }
  ~LoopHarness() = default;
  LoopHarness(const LoopHarness&) = delete;
  LoopHarness& operator=(const LoopHarness&) = delete;

  uv_loop_t* loop() { return &loop_; }
  Worker& worker() { return *worker_; }

  std::unique_ptr<DiskBuffer> open(const DiskBufferOptions& options) {
    Result<std::unique_ptr<DiskBuffer>> buffer = DiskBuffer::open(&loop_, *worker_, options);
    REQUIRE(buffer.status().to_string() == "OK");
    return std::move(buffer).value();
  }

  void close(std::unique_ptr<DiskBuffer>& buffer) {
    int closed = 0;
    buffer->close([&] { ++closed; });
    run_until(&loop_, [&] { return closed > 0; });
    REQUIRE(closed == 1);
    buffer.reset();
  }

  // Appends and waits for the durable callback; returns its status.
  Status append(DiskBuffer& buffer, BufferRecord record) {
    bool done = false;
    Status result;
    buffer.append(std::move(record), [&](const Status& s) {
      done = true;
      result = s;
    });
    run_until(&loop_, [&] { return done; });
    return result;
  }

  Result<BufferRecord> read_after(DiskBuffer& buffer, uint64_t after) {
    bool done = false;
    Result<BufferRecord> result(internal_error("no callback"));
    buffer.read_after(after, [&](Result<BufferRecord> r) {
      done = true;
      result = std::move(r);
    });
    run_until(&loop_, [&] { return done; });
    return result;
  }

  void finish() {
    bool closed = false;
    worker_->close([&] {
      closed = true;
      delete worker_;
    });
    REQUIRE(uv_run(&loop_, UV_RUN_DEFAULT) == 0);
    REQUIRE(closed);
    REQUIRE(uv_loop_close(&loop_) == 0);
  }

 private:
  uv_loop_t loop_;
  Worker* worker_;
};

}  // namespace assas::agent::test
