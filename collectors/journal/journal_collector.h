#pragma once

// The `type: journal` collector: reads the systemd journal through a child process, the journal
// reader (journal_reader.h), which it starts as `/proc/self/exe --journal-reader ...` and whose
// stdout pipe it reads frame by frame (journal_wire.h). The child is there to contain SIGBUS: see
// journal_reader.h and docs/collectors/journal.md.
//
// Positions: one source, "journal:<collector>", whose token is the cursor of the last entry pushed
// (the offset stays 0). The pipeline persists it once the entry is durable in the buffer; at start
// a saved cursor wins over start_at, and the child resumes after it.
//
// Flow control: when push() refuses an entry the collector keeps it and stops reading the pipe;
// the pipe fills and the child blocks in write(). resume() offers the kept entry first.
//
// Restarts: when the child exits or dies (SIGBUS included), the collector reads what is left in
// the pipe, then starts a new child after a backoff (100 ms doubling to 5 s; back to 100 ms after
// a child that ran for 10 s), after the cursor of the last entry it received, pushed or kept.
//
// Loop thread only; close() before destroying.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <uv.h>

#include "agent/collector.h"
#include "base/uv_util.h"
#include "collectors/journal/journal_collector_config.h"
#include "collectors/journal/journal_event_builder.h"
#include "collectors/journal/journal_reader_options.h"
#include "collectors/journal/journal_wire.h"

namespace assas::collectors {

class JournalCollector final : public agent::Collector {
 public:
  struct Stats {
    uint64_t entries = 0;   // received from the reader
    uint64_t restarts = 0;  // readers started after the first
    uint64_t gaps = 0;      // resumes where the saved cursor's entry was gone
    uint64_t lost_entries = 0;
    uint64_t broken_streams = 0;  // frames that did not decode: the reader was killed
  };

  JournalCollector(uv_loop_t* loop, JournalCollectorConfig config);
  ~JournalCollector() override;
  JournalCollector(const JournalCollector&) = delete;
  JournalCollector& operator=(const JournalCollector&) = delete;

  // agent::Collector
  const std::string& name() const override { return config_.name; }
  Status start(agent::EventSink& sink, const agent::PositionMap& positions) override;
  void pause(agent::PauseReason why) override;
  void resume(agent::PauseReason why) override;
  void metrics(std::vector<agent::CollectorMetric>& out) const override;
  void close(std::function<void()> on_closed) override;

  const Stats& stats() const { return stats_; }

 private:
  struct Child;

  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) noexcept;
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void on_exit(uv_process_t* process, int64_t exit_status, int term_signal) noexcept;
  static void on_restart_timer(uv_timer_t* timer) noexcept;
  static void on_kill_timer(uv_timer_t* timer) noexcept;

  bool paused() const;
  // What the next reader is told: after the last cursor received, else per start_at.
  JournalReaderOptions reader_options() const;
  void spawn();
  void drain();
  void handle_frame(JournalFrame&& frame);
  void update_reading();
  void maybe_retire();
  void schedule_restart();
  void maybe_finish_close();

  uv_loop_t* loop_;
  JournalCollectorConfig config_;
  agent::EventSink* sink_ = nullptr;
  agent::StreamPtr stream_;
  std::unique_ptr<Child> child_;
  int retiring_ = 0;  // children whose handles are closing
  JournalWireDecoder decoder_;
  JournalEventBuilder builder_;
  std::optional<JournalEntry> pending_;  // received, refused by push(): offered again first
  int64_t pending_read_ns_ = 0;
  std::string resume_cursor_;  // of the last entry received; empty: start per start_at
  std::string last_error_;     // the last ERROR frame, logged once while it repeats
  uint64_t backoff_ms_;
  bool started_once_ = false;
  agent::PauseCounts pauses_;
  Stats stats_;
  bool closing_ = false;
  bool closed_ = false;
  uv_timer_t restart_timer_{};
  uv_timer_t kill_timer_{};
  std::function<void()> on_closed_;
  HandleCloser closer_;
};

}  // namespace assas::collectors
