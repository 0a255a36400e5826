#pragma once

// Follows one open file: reads it from a position with libuv fs requests (on the thread pool,
// never on the loop), cuts lines, and pushes them to the pipeline until it refuses one; the
// refused line is offered again after resume. Appends are noticed through inotify
// (uv_fs_event) and, as a fallback for filesystems without it, the collector's periodic poke().
// A file that shrinks below the read position was truncated: reading restarts at 0, with a
// warning.
//
// The file stays open by descriptor, so a file renamed or deleted while it is read is still read to
// its end (its collector decides when to let it go). One fs request in flight at a time, owned by
// the tail until its callback. Loop thread only; close() before destroying.

#include <functional>
#include <string>

#include <uv.h>

#include "agent/event.h"
#include "agent/event_sink.h"
#include "base/uv_util.h"
#include "collectors/file/line_splitter.h"

namespace assas::collectors {

class FileTail {
 public:
  class Host {
   public:
    virtual ~Host() = default;
    virtual agent::EventSink& sink() = 0;
    virtual bool paused() const = 0;
  };

  FileTail(uv_loop_t* loop, Host& host, agent::StreamPtr stream, uint64_t start_offset,
           size_t read_buffer_bytes, size_t max_line_bytes, bool strip_cr);
  ~FileTail();
  FileTail(const FileTail&) = delete;
  FileTail& operator=(const FileTail&) = delete;

  void start();
  // The file may have changed, or the pipeline resumed: look and read.
  void poke();
  // At the end of the file with nothing waiting to be pushed.
  bool idle_at_end() const { return at_end_ && !busy_ && !has_unpushed_; }
  // The file could not be opened; the collector drops the tail and tries again at its next scan.
  bool failed() const { return fd_ < 0 && !busy_ && step_ == Step::kOpen; }
  const agent::Stream& stream() const { return *stream_; }
  void close(std::function<void()> on_closed);

 private:
  enum class Step { kNone, kOpen, kStat, kRead, kClose };

  static void on_fs(uv_fs_t* req) noexcept;
  static void on_change(uv_fs_event_t* handle, const char* name, int events, int status) noexcept;
  void on_done(Step step, ssize_t result, uint64_t size);
  void stat();
  void read();
  bool drain();
  void maybe_finish_close();

  uv_loop_t* loop_;
  Host& host_;
  agent::StreamPtr stream_;
  LineSplitter splitter_;
  std::string buffer_;
  uv_fs_t req_{};
  uv_fs_event_t watch_{};
  bool watching_ = false;
  Step step_ = Step::kNone;
  bool busy_ = false;    // req_ is in flight
  bool wanted_ = false;  // a poke arrived while busy
  bool has_unpushed_ = false;
  bool at_end_ = false;
  bool closing_ = false;
  bool closed_ = false;
  uv_file fd_ = -1;
  int64_t read_time_ns_ = 0;
  std::function<void()> on_closed_;
  HandleCloser closer_;
};

}  // namespace assas::collectors
