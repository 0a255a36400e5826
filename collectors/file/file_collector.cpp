#include "collectors/file/file_collector.h"

#include <algorithm>

#include <sys/stat.h>

#include <glob.h>

#include "base/log.h"

namespace assas::collectors {

struct FileCollector::ScanJob {
  uv_work_t req{};
  FileCollector* collector = nullptr;
  std::vector<std::string> patterns;
  std::vector<Found> found;
};

FileCollector::FileCollector(uv_loop_t* loop, FileCollectorConfig config)
    : loop_(loop), config_(std::move(config)) {
  ASSAS_CHECK(uv_timer_init(loop_, &scan_timer_) == 0, "timer init cannot fail");
  ASSAS_CHECK(uv_timer_init(loop_, &poll_timer_) == 0, "timer init cannot fail");
  scan_timer_.data = this;
  poll_timer_.data = this;
}

FileCollector::~FileCollector() {
  ASSAS_CHECK(closed_, "FileCollector destroyed before close() completed");
}

Status FileCollector::start(agent::EventSink& sink, const agent::PositionMap& positions) {
  sink_ = &sink;
  std::string prefix = "file:" + config_.name + ":";
  for (const auto& [source_id, position] : positions) {
    if (source_id.compare(0, prefix.size(), prefix) == 0) {
      positions_.emplace(source_id, position);
    }
  }
  auto rescan = static_cast<uint64_t>(config_.rescan_interval.count());
  auto poll = static_cast<uint64_t>(config_.stat_interval.count());
  ASSAS_CHECK(uv_timer_start(&scan_timer_, &FileCollector::on_scan_timer, rescan, rescan) == 0,
              "timer start cannot fail");
  ASSAS_CHECK(uv_timer_start(&poll_timer_, &FileCollector::on_poll_timer, poll, poll) == 0,
              "timer start cannot fail");
  scan();
  return Status::ok();
}

bool FileCollector::paused() const {
  return std::any_of(std::begin(pauses_), std::end(pauses_), [](int n) { return n > 0; });
}

void FileCollector::pause(agent::PauseReason why) {
  ++pauses_[static_cast<int>(why)];
}

void FileCollector::resume(agent::PauseReason why) {
  int& count = pauses_[static_cast<int>(why)];
  if (count > 0) {
    --count;
  }
  if (!paused() && !closing_) {
    for (auto& [key, tracked] : tails_) {
      tracked.tail->poke();
      if (paused()) {
        break;  // the pipeline filled up again; the next resume continues
      }
    }
  }
}

void FileCollector::on_scan_timer(uv_timer_t* timer) noexcept {
  static_cast<FileCollector*>(timer->data)->scan();
}

void FileCollector::on_poll_timer(uv_timer_t* timer) noexcept {
  auto* self = static_cast<FileCollector*>(timer->data);
  if (self->paused()) {
    return;
  }
  for (auto& [key, tracked] : self->tails_) {
    tracked.tail->poke();
  }
}

void FileCollector::scan() {
  if (scanning_ || closing_) {
    return;
  }
  scanning_ = true;
  auto* job = new ScanJob;
  job->req.data = job;
  job->collector = this;
  job->patterns = config_.paths;
  int rc = uv_queue_work(loop_, &job->req, &FileCollector::scan_work, &FileCollector::scan_done);
  ASSAS_CHECK(rc == 0, "uv_queue_work cannot fail with both callbacks set");
}

// On the thread pool: globbing reads directories, which may be slow on a loaded disk.
void FileCollector::scan_work(uv_work_t* req) noexcept {
  auto* job = static_cast<ScanJob*>(req->data);
  for (const std::string& pattern : job->patterns) {
    glob_t matches{};
    if (::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &matches) == 0) {
      for (size_t i = 0; i < matches.gl_pathc; ++i) {
        struct stat st {};
        if (::stat(matches.gl_pathv[i], &st) == 0 && S_ISREG(st.st_mode)) {
          job->found.push_back(Found{matches.gl_pathv[i], static_cast<uint64_t>(st.st_dev),
                                     static_cast<uint64_t>(st.st_ino),
                                     static_cast<uint64_t>(st.st_size)});
        }
      }
    }
    globfree(&matches);
  }
  std::sort(job->found.begin(), job->found.end(),
            [](const Found& a, const Found& b) { return a.path < b.path; });
}

void FileCollector::scan_done(uv_work_t* req, int /*status*/) noexcept {
  std::unique_ptr<ScanJob> job(static_cast<ScanJob*>(req->data));
  FileCollector* self = job->collector;
  self->scanning_ = false;
  if (self->closing_) {
    self->maybe_finish_close();
    return;
  }
  self->reconcile(job->found);
}

void FileCollector::reconcile(const std::vector<Found>& found) {
  std::map<FileKey, bool> seen;
  for (const Found& f : found) {
    FileKey key{f.device, f.inode};
    if (seen.count(key) != 0) {
      continue;  // the same file through two paths (a symlink, overlapping globs)
    }
    seen[key] = true;
    auto it = tails_.find(key);
    if (it != tails_.end()) {
      it->second.scans_missing = 0;
      continue;
    }
    std::string source_id =
        "file:" + config_.name + ":" + std::to_string(f.device) + ":" + std::to_string(f.inode);
    uint64_t start = 0;
    auto saved = positions_.find(source_id);
    if (saved != positions_.end()) {
      start = saved->second.offset;
      if (start > f.size) {
        ASSAS_LOG(kWarn, "file is shorter than its checkpoint; reading it again from the start",
                  log::kv("path", f.path), log::kv("checkpoint", start), log::kv("size", f.size));
        start = 0;
      }
      positions_.erase(saved);
    } else if (first_scan_ && !config_.start_at_beginning) {
      start = f.size;
    }
    auto stream = std::make_shared<const agent::Stream>(
        agent::Stream{config_.name, f.path, source_id, config_.fields});
    FileTail::Host& host = *this;
    auto tail = std::make_unique<FileTail>(loop_, host, stream, start, config_.read_buffer_bytes,
                                           config_.max_line_bytes, config_.strip_cr);
    FileTail* raw = tail.get();
    tails_.emplace(key, Tracked{std::move(tail), 0});
    ASSAS_LOG(kInfo, "following file", log::kv("collector", config_.name), log::kv("path", f.path),
              log::kv("from_offset", start));
    raw->start();
  }
  first_scan_ = false;
  for (auto it = tails_.begin(); it != tails_.end();) {
    auto next = std::next(it);
    Tracked& tracked = it->second;
    if (tracked.tail->failed()) {
      let_go(it);
    } else if (seen.count(it->first) == 0 && ++tracked.scans_missing >= 2 &&
               tracked.tail->idle_at_end()) {
      // Gone from the glob (rotated away or deleted) and read to its end for a whole scan
      // interval: a writer that still held it open has had time to finish.
      let_go(it);
    }
    it = next;
  }
}

void FileCollector::let_go(std::map<FileKey, Tracked>::iterator it) {
  FileTail* tail = it->second.tail.release();
  tails_.erase(it);
  ++closing_tails_;
  tail->close([this, tail] {
    delete tail;
    --closing_tails_;
    maybe_finish_close();
  });
}

void FileCollector::close(std::function<void()> on_closed) {
  if (closing_) {
    return;
  }
  closing_ = true;
  on_closed_ = std::move(on_closed);
  uv_timer_stop(&scan_timer_);
  uv_timer_stop(&poll_timer_);
  closer_.close(&scan_timer_);
  closer_.close(&poll_timer_);
  while (!tails_.empty()) {
    let_go(tails_.begin());
  }
  closer_.when_closed([](void* self) { static_cast<FileCollector*>(self)->maybe_finish_close(); },
                      this);
}

void FileCollector::maybe_finish_close() {
  if (!closing_ || closed_ || scanning_ || closing_tails_ > 0 || !closer_.idle() || !on_closed_) {
    return;
  }
  closed_ = true;
  auto done = std::move(on_closed_);
  done();
}

}  // namespace assas::collectors
