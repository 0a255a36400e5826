#pragma once

// The `type: file` collector. It finds files by glob on the thread pool (at start, every
// rescan_interval, and at once when a watched directory gains or loses a name), follows each with
// a FileTail, and pokes the open ones on inotify events of their directory and every stat_interval
// as a fallback. docs/collectors/file.md describes every rotation case it handles.
//
// Identity: a file is its device and inode, checked against a fingerprint of its first bytes (an
// inode can be reused once a file is deleted). A renamed file keeps its position; a new file at the
// old path is a new source, read from its start. A file that left the glob (rotated away, deleted)
// is read to its end and let go once everything read from it is durable and it was idle for
// rotate_wait. A file that shrank is read again from 0, and the copy copytruncate left beside it is
// found by its fingerprint and read from where the original stopped; unknown siblings modified
// after that copy are the copies of later generations (several copytruncates while the agent was
// down or frozen), read from their start.
//
// Descriptors: at most max_open_files files are open. Files idle at their end whose lines are all
// durable are closed (after close_inactive, or at once when another file waits for a descriptor)
// and reopened at their position when they grow.
//
// Positions: a source's checkpoint key is "file:<collector>:<device>:<inode>" and its token the
// fingerprint. At start-up, files with a saved position resume there, also when they were rotated
// away meanwhile (looked for by inode in the directories of the globs); the others start at
// `start_at`, and files that appear later are read from their start. Checkpoints of files gone for
// forget_after are dropped.
//
// Loop thread only; close() before destroying.

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
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
  void on_durable(const std::string& source_id, const agent::SourcePosition& position) override;
  void close(std::function<void()> on_closed) override;

  size_t open_files() const { return open_count_; }
  const FileStats& file_stats() const { return stats_; }

  using FileKey = std::pair<uint64_t, uint64_t>;  // device, inode

  // What a scan found (public for the scan job in the .cpp).
  struct Found {
    std::string path;
    FileKey key;
    uint64_t size = 0;
    bool in_glob = true;  // false: found by inode or fingerprint in a directory of the globs
    int fd = -1;          // opened by the scan (owned until adopted)
    bool has_first_bytes = false;
    std::string first_bytes;
    int copy_of = -1;              // index into the scan's copies: a copytruncate copy
    bool unseen_rotation = false;  // a rotated sibling the agent never saw: read from its start
  };
  // The copy of a truncated file, to be looked for by fingerprint.
  struct WantedCopy {
    Fingerprint fingerprint;
    uint64_t offset = 0;    // where the original stopped
    uint64_t until_ms = 0;  // looked for until then
    std::string path;       // of the truncated file: its copies are its siblings
  };

 private:
  struct Tracked {
    std::string path;  // where it was last seen
    std::string source_id;
    agent::StreamPtr stream;
    std::unique_ptr<FileTail> tail;  // null while closed
    uint64_t position = 0;           // where to resume while closed
    std::optional<Fingerprint> fingerprint;
    uint64_t durable = 0;       // offset of the last durable position
    uint64_t left_glob_ms = 0;  // when it was found gone from the glob (rotated away, deleted)
    bool in_glob = false;
    bool wants_open = false;
    bool ignored = false;   // compressed: never read
    bool searched = false;  // left the glob while closed, looked for once by inode
  };
  struct ScanJob;
  struct DirWatch;

  // FileTail::Host
  agent::EventSink& sink() override { return *sink_; }
  bool paused() const override;
  FileStats& stats() override { return stats_; }
  void on_truncated(FileTail& tail, const Fingerprint& before, uint64_t resume_offset) override;
  bool take_unfinished_event(FileTail& tail, UnfinishedEvent& out) override;

  static void on_scan_timer(uv_timer_t* timer) noexcept;
  static void on_poll_timer(uv_timer_t* timer) noexcept;
  static void scan_work(uv_work_t* req) noexcept;
  static void scan_done(uv_work_t* req, int status) noexcept;
  static void on_dir_event(uv_fs_event_t* handle, const char* name, int events,
                           int status) noexcept;
  void request_scan();
  void scan();
  void reconcile(ScanJob& job);
  void adopt(Found& found, const ScanJob& job);
  void watch_directories(const std::set<std::string>& dirs);
  void housekeeping();
  void open_tail(Tracked& tracked, TailStart start);
  void close_tail(Tracked& tracked);
  void let_go(std::map<FileKey, Tracked>::iterator it);
  void open_waiting();
  bool starts_like_followed(std::string_view first_bytes) const;
  void set_path(Tracked& tracked, const FileKey& key, const std::string& path);
  void maybe_finish_close();

  uv_loop_t* loop_;
  FileCollectorConfig config_;
  agent::EventSink* sink_ = nullptr;
  agent::PositionMap positions_;  // from the last run, not yet matched to a file
  std::map<FileKey, Tracked> files_;
  std::unordered_map<std::string, FileKey> by_source_;
  std::unordered_map<std::string, FileKey> by_path_;
  std::vector<WantedCopy> copies_;
  std::set<std::string> copytruncate_dirs_;  // directories where a followed file was truncated
  std::set<FileKey> search_for_;  // closed files that left the glob, to look for by inode
  std::map<std::string, uint64_t> forget_at_;  // source_id → when its checkpoint is dropped
  std::map<std::string, std::unique_ptr<DirWatch>> watches_;
  FileStats stats_;
  size_t open_count_ = 0;
  size_t reserved_by_scan_ = 0;  // descriptors the scan in flight may open
  int closing_tails_ = 0;
  agent::PauseCounts pauses_;
  bool first_scan_ = true;
  bool scanning_ = false;
  bool scan_again_ = false;
  bool names_changed_ = false;  // a watched directory gained or lost a name since the last scan
  bool closing_ = false;
  bool closed_ = false;
  uv_timer_t scan_timer_{};
  uv_timer_t poll_timer_{};
  std::function<void()> on_closed_;
  HandleCloser closer_;
};

}  // namespace assas::collectors
