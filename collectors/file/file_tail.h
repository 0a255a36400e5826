#pragma once

// Follows one open file: checks its identity (the fingerprint of its first bytes), reads it from a
// position with libuv fs requests (on the thread pool, never on the loop), cuts lines, joins
// multiline events, and pushes them to the pipeline until it refuses one; the refused line is
// offered again after resume. The collector pokes it when the file may have changed (inotify on
// the directory, and a periodic fallback).
//
// A file that shrinks below the read position was truncated (in place, or by copytruncate): the
// collector is told (it looks for the copy) and reading restarts at 0. A partial last line and an
// unfinished multiline event are held until their timeouts, then sent.
//
// The file stays open by descriptor, so a file renamed or deleted while it is read is still read to
// its end (its collector decides when to let it go). One fs request in flight at a time, owned by
// the tail until its callback. Loop thread only; close() before destroying.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <uv.h>

#include "agent/event.h"
#include "agent/event_sink.h"
#include "base/uv_util.h"
#include "collectors/file/file_collector_config.h"
#include "collectors/file/file_identity.h"
#include "collectors/file/line_splitter.h"
#include "collectors/file/multiline_joiner.h"

namespace assas::collectors {

// What the file collector counts (logged when it stops).
struct FileStats {
  uint64_t lines_split = 0;         // lines longer than max_line_bytes sent in pieces
  uint64_t lines_truncated = 0;     // lines longer than max_line_bytes cut (long_lines: truncate)
  uint64_t partial_lines_sent = 0;  // last lines sent without their newline after the timeout
  uint64_t truncations = 0;         // files that shrank below the read position
  uint64_t replaced_files = 0;      // a checkpointed inode holding another file (inode reuse)
  uint64_t copies_found = 0;        // copytruncate copies read from where the original stopped
  uint64_t compressed_skipped = 0;  // compressed files never read
  uint64_t forgotten = 0;           // checkpoints of files gone past forget_after
};

// A multiline event left unfinished by a file that was rotated away, continued by the file that
// took its place (see Host::take_unfinished_event).
struct UnfinishedEvent {
  agent::StreamPtr stream;  // of the rotated file, where the event began
  std::string text;
  uint64_t offset = 0;
  uint32_t lines = 0;
  agent::SourcePosition next;  // the rotated file's position after its part
};

// Where and how a tail begins.
struct TailStart {
  uint64_t offset = 0;
  std::optional<Fingerprint> expected;  // the file must start like this, else it is read from 0
  uv_file fd = -1;                      // already open (by the scan), or -1: open by path
  uint64_t device = 0;                  // the identity the file at the path must have
  uint64_t inode = 0;
};

class FileTail {
 public:
  class Host {
   public:
    virtual ~Host() = default;
    virtual agent::EventSink& sink() = 0;
    virtual bool paused() const = 0;
    virtual FileStats& stats() = 0;
    // The file no longer holds what was read (it shrank, or its first bytes changed): its old
    // content may live on in a copy that starts like `before`, to be read from resume_offset.
    virtual void on_truncated(FileTail& tail, const Fingerprint& before,
                              uint64_t resume_offset) = 0;
    // This tail's file begins with continuation lines: a multiline event left unfinished by the
    // file rotated away from the same path, if any, moves into out.
    virtual bool take_unfinished_event(FileTail& tail, UnfinishedEvent& out) = 0;
  };

  enum class State : uint8_t {
    kOpening,
    kReading,
    kFailed,      // cannot be opened, or the path now holds another file
    kCompressed,  // never read as text
  };

  FileTail(uv_loop_t* loop, Host& host, const FileCollectorConfig& config, agent::StreamPtr stream,
           const TailStart& start);
  ~FileTail();
  FileTail(const FileTail&) = delete;
  FileTail& operator=(const FileTail&) = delete;

  void start();
  // The file may have changed, or the pipeline resumed: look and read.
  void poke();
  // Sends a held partial line and an unfinished multiline event now (the file is being let go).
  void flush_held();
  // At rest: gives the read buffer back, so that a thousand quiet files do not hold a thousand
  // read buffers (256 KiB each by default). The next read takes what it needs again.
  void release_read_buffer();

  State state() const { return state_; }
  // At the end of the file with nothing waiting to be pushed.
  bool idle_at_end() const { return at_end_ && !busy_ && !has_unpushed_; }
  // Nothing held back: no partial line, no unfinished multiline event.
  bool holds_nothing() const;
  // Everything before this offset has been pushed; where to resume if the file is closed now.
  uint64_t resume_offset() const { return emitted_offset_; }
  const std::optional<Fingerprint>& fingerprint() const { return fingerprint_; }
  uint64_t last_activity_ms() const { return last_activity_ms_; }
  const agent::Stream& stream() const { return *stream_; }
  const agent::StreamPtr& stream_ptr() const { return stream_; }
  // Moves an unfinished multiline event out, if the tail is at rest at its end with one.
  bool give_unfinished_event(UnfinishedEvent& out);
  void close(std::function<void()> on_closed);

 private:
  enum class Step : uint8_t { kNone, kOpen, kStat, kFingerprint, kRead, kClose };

  static void on_fs(uv_fs_t* req) noexcept;
  static void on_flush_timer(uv_timer_t* timer) noexcept;
  void on_done(Step step, ssize_t result, const uv_stat_t* st);
  void on_opened(ssize_t result);
  void on_fingerprint(ssize_t result);
  void on_stat(const uv_stat_t& st);
  void on_read(ssize_t result);
  void stat();
  void read_fingerprint();
  void read();
  bool read_failed(ssize_t result);
  void read_or_rest();
  void rest();
  void restart_from_zero(Fingerprint before, std::string_view why, uint64_t size);
  bool drain();
  bool offer(const Line& line);
  bool push_line(const Line& line);
  bool push_joined();
  void arm_flush_timer();
  bool flush_due(bool force);
  void maybe_finish_close();

  uv_loop_t* loop_;
  Host& host_;
  const FileCollectorConfig& config_;
  agent::StreamPtr stream_;
  TailStart start_;
  LineSplitter splitter_;
  std::unique_ptr<MultilineJoiner> joiner_;  // null unless multiline is configured
  std::optional<UnfinishedEvent> carried_;   // the head of the event in joiner_, from elsewhere
  std::string buffer_;
  std::string first_bytes_;
  std::optional<Fingerprint> fingerprint_;
  std::string token_;  // fingerprint_token(*fingerprint_), the position token of every event
  std::string marker_;
  agent::Event event_;  // the event being pushed, reused so that its token is not reallocated
  uv_fs_t req_{};
  uv_timer_t flush_timer_{};
  State state_ = State::kOpening;
  Step step_ = Step::kNone;
  bool busy_ = false;    // req_ is in flight
  bool wanted_ = false;  // a poke arrived while busy
  bool has_unpushed_ = false;
  bool at_end_ = false;
  bool closing_ = false;
  bool closed_ = false;
  uv_file fd_ = -1;
  uint64_t emitted_offset_ = 0;
  uint64_t size_ = 0;  // at the last stat
  int64_t read_time_ns_ = 0;
  uint64_t last_activity_ms_ = 0;
  uint64_t joiner_deadline_ms_ = 0;
  uint64_t partial_deadline_ms_ = 0;  // 0: no partial line waiting
  std::function<void()> on_closed_;
  HandleCloser closer_;
};

}  // namespace assas::collectors
