#pragma once

// The `type: file` collector: finds files by glob (on the thread pool, at start and every
// rescan_interval), follows each with a FileTail, and pokes them every stat_interval as a fallback
// for missed inotify events. A file is identified by device and inode, so a path that is renamed
// (logrotate) keeps its position, and a new file at the old path is a new source read from its
// start. A file that left the glob (renamed away, deleted) is read to its end and then let go.
//
// Positions: a source's checkpoint key is "file:<collector>:<device>:<inode>"; at start-up a file
// with a saved position resumes there (from 0 if the file is now shorter), a file without one
// starts at `start_at`, and files that appear later are read from their start.
//
// Loop thread only; close() before destroying.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "agent/collector.h"
#include "base/uv_util.h"
#include "collectors/file/file_collector_config.h"
#include "collectors/file/file_tail.h"

namespace assas::collectors {

class FileCollector final : public agent::Collector, private FileTail::Host {
 public:
  FileCollector(uv_loop_t* loop, FileCollectorConfig config);
  ~FileCollector() override;
  FileCollector(const FileCollector&) = delete;
  FileCollector& operator=(const FileCollector&) = delete;

  // agent::Collector
  const std::string& name() const override { return config_.name; }
  Status start(agent::EventSink& sink, const agent::PositionMap& positions) override;
  void pause(agent::PauseReason why) override;
  void resume(agent::PauseReason why) override;
  void close(std::function<void()> on_closed) override;

  size_t open_files() const { return tails_.size(); }

 private:
  struct Found {
    std::string path;
    uint64_t device = 0;
    uint64_t inode = 0;
    uint64_t size = 0;
  };
  struct ScanJob;
  using FileKey = std::pair<uint64_t, uint64_t>;  // device, inode
  struct Tracked {
    std::unique_ptr<FileTail> tail;
    int scans_missing = 0;
  };

  // FileTail::Host
  agent::EventSink& sink() override { return *sink_; }
  bool paused() const override;

  static void on_scan_timer(uv_timer_t* timer) noexcept;
  static void on_poll_timer(uv_timer_t* timer) noexcept;
  static void scan_work(uv_work_t* req) noexcept;
  static void scan_done(uv_work_t* req, int status) noexcept;
  void scan();
  void reconcile(const std::vector<Found>& found);
  void let_go(std::map<FileKey, Tracked>::iterator it);
  void maybe_finish_close();

  uv_loop_t* loop_;
  FileCollectorConfig config_;
  agent::EventSink* sink_ = nullptr;
  agent::PositionMap positions_;  // from the last run; consulted when a file is first seen
  std::map<FileKey, Tracked> tails_;
  int closing_tails_ = 0;
  int pauses_[agent::kPauseReasonCount] = {};
  bool first_scan_ = true;
  bool scanning_ = false;
  bool closing_ = false;
  bool closed_ = false;
  uv_timer_t scan_timer_{};
  uv_timer_t poll_timer_{};
  std::function<void()> on_closed_;
  HandleCloser closer_;
};

}  // namespace assas::collectors
