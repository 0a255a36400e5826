#include "collectors/file/file_collector.h"

#include <algorithm>
#include <cerrno>

#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <unistd.h>

#include "base/log.h"

namespace assas::collectors {

namespace {

// How long a truncated file's copy is looked for.
constexpr uint64_t kCopySearchMs = 60'000;

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_of(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

// The directory part of a pattern before its first wildcard: watched, so that new files (and new
// subdirectories of a `*/` pattern) are seen at once.
std::string literal_dir_of(const std::string& pattern) {
  size_t wild = pattern.find_first_of("*?[");
  std::string literal = wild == std::string::npos ? pattern : pattern.substr(0, wild);
  return dir_of(literal);
}

bool excluded(const std::vector<std::string>& patterns, const std::string& path) {
  std::string base = base_of(path);
  for (const std::string& pattern : patterns) {
    bool full = pattern.find('/') != std::string::npos;
    if (::fnmatch(pattern.c_str(), full ? path.c_str() : base.c_str(), full ? FNM_PATHNAME : 0) ==
        0) {
      return true;
    }
  }
  return false;
}

// "app.log.3", "app.log-20261129", "app.log_old" are siblings of "app.log": its name, then '.',
// '-' or '_', then more.
bool sibling_of(std::string_view base, std::string_view name) {
  return name.size() > base.size() + 1 && name.substr(0, base.size()) == base &&
         std::string_view(".-_").find(name[base.size()]) != std::string_view::npos;
}

int64_t mtime_ns(const struct stat& st) {
  return st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec;
}

FileCollector::FileKey key_of(const struct stat& st) {
  return {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

// The first bytes of an open file (for its fingerprint and the compressed check).
bool read_first_bytes(int fd, std::string& out) {
  out.resize(kFingerprintBytes);
  ssize_t n;
  do {
    n = ::pread(fd, out.data(), out.size(), 0);
  } while (n < 0 && errno == EINTR);
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return n >= 0;
}

// The same, by path, for a file that is looked at but not kept open.
bool read_first_bytes_of(const std::string& path, std::string& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    return false;
  }
  bool readable = read_first_bytes(fd, out);
  ::close(fd);
  return readable;
}

// "file:<collector>:<device>:<inode>" → the key; false for another collector's or a bad id.
bool key_of_source(const std::string& source_id, FileCollector::FileKey& key) {
  size_t inode_at = source_id.rfind(':');
  size_t device_at = inode_at == std::string::npos || inode_at == 0
                         ? std::string::npos
                         : source_id.rfind(':', inode_at - 1);
  if (device_at == std::string::npos) {
    return false;
  }
  char* end = nullptr;
  key.first = std::strtoull(source_id.c_str() + device_at + 1, &end, 10);
  if (end != source_id.c_str() + inode_at) {
    return false;
  }
  key.second = std::strtoull(source_id.c_str() + inode_at + 1, &end, 10);
  return *end == '\0';
}

}  // namespace

struct FileCollector::DirWatch {
  uv_fs_event_t handle{};
  FileCollector* owner = nullptr;
  std::string dir;
};

struct FileCollector::ScanJob {
  uv_work_t req{};
  FileCollector* collector = nullptr;
  // In:
  std::vector<std::string> patterns;
  std::vector<std::string> exclude;
  std::set<FileKey> known;   // tracked already: neither opened nor fingerprinted again
  std::set<FileKey> wanted;  // looked for by inode in the directories
  std::vector<WantedCopy> copies;
  bool recover_rotated = false;  // the first scan: look for files rotated while the agent was down
  // Names came and went: look for rotated files that were renamed before the agent saw them.
  bool look_for_unseen = false;
  std::set<FileKey> rotated_known;    // rotated files followed now or let go recently
  std::vector<Fingerprint> followed;  // first bytes of the open files (their copies are no news)
  std::set<std::string> copytruncate_dirs;  // where files were truncated: copies, not generations
  // First scan: checkpointed offset and fingerprint by file, to see a truncation made meanwhile.
  std::map<FileKey, std::pair<uint64_t, std::optional<Fingerprint>>> saved;
  size_t open_budget = 0;
  // Out:
  std::vector<Found> found;
  std::set<std::string> dirs;  // to watch
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
    FileKey key;
    if (source_id.compare(0, prefix.size(), prefix) == 0 && key_of_source(source_id, key)) {
      positions_.emplace(source_id, position);
    }
  }
  auto rescan = static_cast<uint64_t>(config_.rescan_interval.count());
  auto poll = static_cast<uint64_t>(config_.stat_interval.count());
  ASSAS_CHECK(uv_timer_start(&scan_timer_, &FileCollector::on_scan_timer, rescan, rescan) == 0,
              "timer start cannot fail");
  ASSAS_CHECK(uv_timer_start(&poll_timer_, &FileCollector::on_poll_timer, poll, poll) == 0,
              "timer start cannot fail");
  // Watched before the first scan looks: a file created between the two would otherwise stay
  // unseen until the next rescan, and be rotated away unread if that is quick.
  std::set<std::string> dirs;
  for (const std::string& pattern : config_.paths) {
    dirs.insert(literal_dir_of(pattern));
  }
  watch_directories(dirs);
  scan();
  return Status::ok();
}

bool FileCollector::paused() const {
  return pauses_.paused();
}

void FileCollector::pause(agent::PauseReason why) {
  pauses_.pause(why);
}

void FileCollector::resume(agent::PauseReason why) {
  pauses_.resume(why);
  if (!paused() && !closing_) {
    for (auto& [key, tracked] : files_) {
      if (tracked.tail) {
        tracked.tail->poke();
        if (paused()) {
          break;  // the pipeline filled up again; the next resume continues
        }
      }
    }
  }
}

void FileCollector::on_durable(const std::string& source_id,
                               const agent::SourcePosition& position) {
  auto it = by_source_.find(source_id);
  if (it == by_source_.end()) {
    return;
  }
  auto tracked = files_.find(it->second);
  if (tracked != files_.end()) {
    tracked->second.durable = position.offset;
  }
  if (open_count_ >= config_.max_open_files) {
    housekeeping();  // files wait for a descriptor: free the ones now done at once
  }
}

void FileCollector::on_scan_timer(uv_timer_t* timer) noexcept {
  static_cast<FileCollector*>(timer->data)->scan();
}

void FileCollector::on_poll_timer(uv_timer_t* timer) noexcept {
  auto* self = static_cast<FileCollector*>(timer->data);
  // Housekeeping first: it looks for tails at rest, and a poke puts each one to work for a moment.
  self->housekeeping();
  if (!self->paused() && !self->closing_) {
    for (auto& [key, tracked] : self->files_) {
      if (tracked.tail) {
        tracked.tail->poke();
      }
    }
  }
}

void FileCollector::request_scan() {
  if (scanning_) {
    scan_again_ = true;
  } else {
    scan();
  }
}

void FileCollector::scan() {
  if (scanning_ || closing_) {
    return;
  }
  scanning_ = true;
  scan_again_ = false;
  auto* job = new ScanJob;
  job->req.data = job;
  job->collector = this;
  job->patterns = config_.paths;
  job->exclude = config_.exclude;
  for (const auto& [key, tracked] : files_) {
    job->known.insert(key);
  }
  for (const auto& [source_id, position] : positions_) {
    FileKey key;
    if (key_of_source(source_id, key) && files_.count(key) == 0) {
      job->wanted.insert(key);
    }
  }
  job->wanted.insert(search_for_.begin(), search_for_.end());
  job->recover_rotated = first_scan_ && !job->wanted.empty();
  for (const auto& [key, tracked] : files_) {
    if (!tracked.in_glob) {
      job->rotated_known.insert(key);
    }
    if (tracked.tail && tracked.tail->fingerprint() && tracked.tail->fingerprint()->length > 0) {
      job->followed.push_back(*tracked.tail->fingerprint());
    }
  }
  for (const auto& [source_id, when] : forget_at_) {
    FileKey key;
    if (key_of_source(source_id, key)) {
      job->rotated_known.insert(key);
    }
  }
  job->look_for_unseen = names_changed_ && !job->rotated_known.empty();
  job->copytruncate_dirs = copytruncate_dirs_;
  if (first_scan_) {
    for (const auto& [source_id, position] : positions_) {
      FileKey key;
      if (key_of_source(source_id, key)) {
        job->saved[key] = {position.offset, parse_fingerprint_token(position.token)};
      }
    }
  }
  names_changed_ = false;
  uint64_t now = uv_now(loop_);
  std::erase_if(copies_, [now](const WantedCopy& c) { return c.until_ms < now; });
  job->copies = copies_;
  size_t open = open_count_;
  job->open_budget = open < config_.max_open_files ? config_.max_open_files - open : 0;
  reserved_by_scan_ = job->open_budget;
  int rc = uv_queue_work(loop_, &job->req, &FileCollector::scan_work, &FileCollector::scan_done);
  ASSAS_CHECK(rc == 0, "uv_queue_work cannot fail with both callbacks set");
}

// On the thread pool: globbing and stat read directories, which may be slow on a loaded disk. New
// files are opened here, right after they are found, so that a file renamed a moment later is still
// the one followed.
void FileCollector::scan_work(uv_work_t* req) noexcept {
  auto* job = static_cast<ScanJob*>(req->data);
  std::set<FileKey> found_keys;
  auto add = [&](const std::string& path, const struct stat& st, bool in_glob, int copy_of) {
    Found f;
    f.path = path;
    f.key = key_of(st);
    f.size = static_cast<uint64_t>(st.st_size);
    f.in_glob = in_glob;
    f.copy_of = copy_of;
    if (job->known.count(f.key) == 0) {
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
      struct stat opened {};
      if (fd >= 0 && ::fstat(fd, &opened) == 0 && key_of(opened) == f.key) {
        f.size = static_cast<uint64_t>(opened.st_size);
        f.has_first_bytes = read_first_bytes(fd, f.first_bytes);
        if (job->open_budget > 0) {
          f.fd = fd;
          fd = -1;
          --job->open_budget;
        }
      }
      if (fd >= 0) {
        ::close(fd);
      }
    }
    found_keys.insert(f.key);
    job->found.push_back(std::move(f));
  };
  // File names the globs matched, per directory: the families of rotated siblings.
  std::map<std::string, std::set<std::string>> names_by_dir;
  for (const std::string& pattern : job->patterns) {
    job->dirs.insert(literal_dir_of(pattern));
    glob_t matches{};
    if (::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &matches) == 0) {
      for (size_t i = 0; i < matches.gl_pathc; ++i) {
        std::string path = matches.gl_pathv[i];
        struct stat st {};
        if (excluded(job->exclude, path) || ::stat(path.c_str(), &st) != 0 ||
            !S_ISREG(st.st_mode)) {
          continue;
        }
        job->dirs.insert(dir_of(path));
        names_by_dir[dir_of(path)].insert(base_of(path));
        if (found_keys.count(key_of(st)) == 0) {
          add(path, st, true, -1);
          // A checkpointed file now shorter, or starting otherwise: truncated while the agent was
          // down (copytruncate). Its directory holds copies, not unseen generations.
          auto saved = job->saved.find(key_of(st));
          const Found& f = job->found.back();
          if (saved != job->saved.end() && (f.size < saved->second.first ||
                                            (saved->second.second && f.has_first_bytes &&
                                             !starts_like(*saved->second.second, f.first_bytes)))) {
            job->copytruncate_dirs.insert(dir_of(path));
          }
        }
      }
    }
    globfree(&matches);
  }
  if (job->wanted.empty() && job->copies.empty() && !job->look_for_unseen) {
    return;
  }
  // Files that left the glob (rotated away while the agent was down or while closed) by inode, and
  // the copies of truncated files by fingerprint, in the directories the globs cover.
  for (const std::string& dir : job->dirs) {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      continue;
    }
    const std::set<std::string>& names = names_by_dir[dir];
    // Rotated siblings ("app.log.3", "app.log-20261129") of a followed file, by family: the oldest
    // modification time of those the agent knows (checkpointed, followed, or let go recently), and
    // those it does not.
    std::map<std::string, int64_t> oldest_known;
    std::vector<std::pair<std::string, struct stat>> unknown_siblings;
    // Copytruncate: the oldest modification time of the copies found (by fingerprint) of each
    // truncated file, by that file's path; and its unknown siblings, which may be copies of later
    // generations (see below).
    std::map<std::string, int64_t> copied_at;
    struct LaterCopy {
      std::string path;
      struct stat st;
      std::string first;
      std::string original;
    };
    std::vector<LaterCopy> later_copies;
    auto family_of = [&](const std::string& name) -> std::string {
      for (const std::string& base : names) {
        if (sibling_of(base, name)) {
          return base;
        }
      }
      return {};
    };
    while (dirent* entry = ::readdir(d)) {
      std::string path = (dir == "/" ? "" : dir) + "/" + entry->d_name;
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        continue;
      }
      FileKey key = key_of(st);
      // Where files are copied and truncated, a new sibling is a copy, not a generation the agent
      // missed: only the first scan after a restart looks for those there.
      bool siblings =
          (job->recover_rotated || job->look_for_unseen) && job->copytruncate_dirs.count(dir) == 0;
      std::string family = siblings ? family_of(entry->d_name) : std::string();
      bool wanted = job->wanted.count(key) != 0;
      if (!family.empty() && (wanted || job->rotated_known.count(key) != 0)) {
        auto [it, first] = oldest_known.emplace(family, mtime_ns(st));
        if (!first) {
          it->second = std::min(it->second, mtime_ns(st));
        }
      }
      bool unknown = found_keys.count(key) == 0 && job->known.count(key) == 0 &&
                     job->rotated_known.count(key) == 0;
      // The truncated file this is a sibling of, if any.
      const std::string* original = nullptr;
      for (const WantedCopy& copy : job->copies) {
        if (dir_of(copy.path) == dir && sibling_of(base_of(copy.path), entry->d_name)) {
          original = &copy.path;
          break;
        }
      }
      std::string first;
      bool readable = false;
      int copy_of = -1;
      if (!job->copies.empty() && !looks_compressed(path, {}) &&
          ((unknown && !wanted) || original != nullptr)) {
        readable = read_first_bytes_of(path, first);
        for (size_t i = 0; readable && i < job->copies.size(); ++i) {
          const WantedCopy& copy = job->copies[i];
          if (static_cast<uint64_t>(st.st_size) >= copy.offset &&
              starts_like(copy.fingerprint, first)) {
            copy_of = static_cast<int>(i);
            if (copy.fingerprint.length > 0) {  // (a copy the agent knows counts too)
              auto [at, first_copy] = copied_at.emplace(copy.path, mtime_ns(st));
              if (!first_copy) {
                at->second = std::min(at->second, mtime_ns(st));
              }
            }
            break;
          }
        }
      }
      if (!unknown) {
        continue;
      }
      if (wanted) {
        add(path, st, false, -1);
        continue;
      }
      if (!family.empty() && !looks_compressed(path, {}) && !excluded(job->exclude, path)) {
        unknown_siblings.emplace_back(path, st);
      }
      if (copy_of >= 0) {
        add(path, st, false, copy_of);
      } else if (original != nullptr && readable && !looks_compressed(path, first) &&
                 !excluded(job->exclude, path)) {
        later_copies.push_back(LaterCopy{path, st, std::move(first), *original});
      }
    }
    ::closedir(d);
    // Several copytruncate rotations since the generation the agent last read (while it was down,
    // or frozen, or killed before anything of the next generation was durable: its checkpoint is
    // then still in the older one): the copy of that generation is found by its fingerprint, and
    // the copies made after it hold whole generations the agent never read. They are the unknown
    // siblings modified no earlier than that copy, that are no copy of a file still followed (its
    // truncation not seen yet) nor of one looked for: read from their start. (Without this, the
    // generations between the checkpointed one and the file's present content were lost: found by
    // the kill -9 copytruncate scenario, when the checkpoint lagged behind a rotation.)
    for (LaterCopy& later : later_copies) {
      auto at = copied_at.find(later.original);
      if (at == copied_at.end() || mtime_ns(later.st) < at->second ||
          found_keys.count(key_of(later.st)) != 0) {
        continue;
      }
      auto like = [&](const Fingerprint& f) { return starts_like(f, later.first); };
      if (std::any_of(job->followed.begin(), job->followed.end(), like) ||
          std::any_of(job->copies.begin(), job->copies.end(),
                      [&](const WantedCopy& c) { return like(c.fingerprint); })) {
        continue;
      }
      add(later.path, later.st, false, -1);
      job->found.back().unseen_rotation = true;
    }
    // A sibling the agent does not know, modified no earlier than the oldest one it knows, is a
    // generation it missed: rotated away before the agent could open it (while it was down, or
    // faster than a scan), or opened but killed before any of it was durable. Only siblings older
    // than everything known are history from before the agent came. (Comparing with the newest
    // known sibling lost whole generations: one read but not yet checkpointed when the agent was
    // killed, once a newer generation had been checkpointed, was never read again. Found by fault
    // 1 under load.) Read it all, unless it starts like a file being followed: then it is a
    // copytruncate copy, which the copy search handles.
    for (const auto& [path, st] : unknown_siblings) {
      auto oldest = oldest_known.find(family_of(base_of(path)));
      if (oldest == oldest_known.end() || mtime_ns(st) < oldest->second ||
          found_keys.count(key_of(st)) != 0) {
        continue;
      }
      std::string first;
      bool readable = read_first_bytes_of(path, first);
      bool a_copy = std::any_of(job->followed.begin(), job->followed.end(),
                                [&](const Fingerprint& f) { return starts_like(f, first); });
      if (readable && !a_copy) {
        add(path, st, false, -1);
        job->found.back().unseen_rotation = true;
      }
    }
  }
}

void FileCollector::scan_done(uv_work_t* req, int /*status*/) noexcept {
  std::unique_ptr<ScanJob> job(static_cast<ScanJob*>(req->data));
  FileCollector* self = job->collector;
  self->scanning_ = false;
  self->reserved_by_scan_ = 0;
  if (self->closing_) {
    for (Found& f : job->found) {
      if (f.fd >= 0) {
        ::close(f.fd);
      }
    }
    self->maybe_finish_close();
    return;
  }
  self->reconcile(*job);
  if (self->scan_again_) {
    self->scan();
  }
}

void FileCollector::reconcile(ScanJob& job) {
  std::set<FileKey> seen;
  for (Found& f : job.found) {
    seen.insert(f.key);
    adopt(f, job);
    if (f.fd >= 0) {
      ::close(f.fd);  // not adopted: a known file, or one not to read
    }
  }
  // Saved positions whose file was neither in the glob nor in its directories: gone while the agent
  // was down. Their checkpoints are dropped after forget_after.
  for (const auto& [source_id, position] : positions_) {
    forget_at_.emplace(source_id,
                       uv_now(loop_) + static_cast<uint64_t>(config_.forget_after.count()));
  }
  positions_.clear();
  first_scan_ = false;
  std::vector<FileKey> lost;
  for (auto& [key, tracked] : files_) {
    if (seen.count(key) != 0) {
      continue;
    }
    if (tracked.in_glob) {
      tracked.left_glob_ms = uv_now(loop_);  // rotate_wait counts from here
    }
    tracked.in_glob = false;
    if (tracked.tail == nullptr) {
      if (!tracked.searched && !tracked.ignored) {
        tracked.searched = true;  // look for it by inode once; data may have been appended
        search_for_.insert(key);
        scan_again_ = true;
      } else {
        lost.push_back(key);
      }
    }
  }
  for (const FileKey& key : lost) {
    search_for_.erase(key);
    let_go(files_.find(key));
  }
  watch_directories(job.dirs);
  housekeeping();
}

// One file the scan found: a known one is updated, a new one tracked (and its tail started).
void FileCollector::adopt(Found& f, const ScanJob& job) {
  auto it = files_.find(f.key);
  if (it != files_.end()) {
    Tracked& tracked = it->second;
    if (f.in_glob) {
      tracked.in_glob = true;
      tracked.searched = false;
      set_path(tracked, f.key, f.path);
    }
    search_for_.erase(f.key);
    if (tracked.tail == nullptr && !tracked.ignored && f.size != tracked.position) {
      tracked.wants_open = true;
    }
    return;
  }
  std::string source_id = "file:" + config_.name + ":" + std::to_string(f.key.first) + ":" +
                          std::to_string(f.key.second);
  TailStart start;
  start.device = f.key.first;
  start.inode = f.key.second;
  auto saved = positions_.find(source_id);
  auto copy = copies_.end();
  if (f.copy_of >= 0) {
    const WantedCopy& wanted = job.copies[static_cast<size_t>(f.copy_of)];
    copy = std::find_if(copies_.begin(), copies_.end(), [&](const WantedCopy& c) {
      return c.fingerprint == wanted.fingerprint && c.offset == wanted.offset;
    });
  } else if ((f.in_glob || f.unseen_rotation) && f.has_first_bytes && saved == positions_.end()) {
    copy = std::find_if(copies_.begin(), copies_.end(), [&](const WantedCopy& c) {
      return f.size >= c.offset && starts_like(c.fingerprint, f.first_bytes);
    });
  }
  if (copy != copies_.end()) {
    start.offset = copy->offset;
    start.expected = copy->fingerprint;
    ++stats_.copies_found;
    ASSAS_LOG(kInfo,
              "found the copy of a truncated file; reading it from where the original stopped",
              log::kv("path", f.path), log::kv("from_offset", copy->offset));
    copies_.erase(copy);
  } else if (saved != positions_.end()) {
    start.offset = saved->second.offset;
    start.expected = parse_fingerprint_token(saved->second.token);
    positions_.erase(saved);
  } else if (f.unseen_rotation && starts_like_followed(f.first_bytes)) {
    return;  // a copytruncate copy whose truncation is not seen yet: the copy search takes it
  } else if (f.unseen_rotation) {
    ASSAS_LOG(kInfo,
              "reading a rotated file the agent had not seen (rotated away before it could "
              "be opened, or while the agent was not running)",
              log::kv("collector", config_.name), log::kv("path", f.path));
  } else if (!f.in_glob || (f.copy_of >= 0)) {
    return;  // found in a directory, but no longer wanted
  } else if (first_scan_ && !config_.start_at_beginning) {
    start.offset = f.size;
  }
  Tracked& tracked = files_[f.key];
  tracked.source_id = source_id;
  tracked.in_glob = f.in_glob;
  tracked.left_glob_ms = f.in_glob ? 0 : uv_now(loop_);
  tracked.position = start.offset;
  tracked.fingerprint = start.expected;
  tracked.stream = std::make_shared<const agent::Stream>(
      agent::Stream{config_.name, f.path, source_id, config_.fields});
  by_source_[source_id] = f.key;
  set_path(tracked, f.key, f.path);
  forget_at_.erase(source_id);
  search_for_.erase(f.key);
  if (f.has_first_bytes && looks_compressed(f.path, f.first_bytes)) {
    tracked.ignored = true;
    ++stats_.compressed_skipped;
    ASSAS_LOG(kInfo, "compressed file is not read", log::kv("collector", config_.name),
              log::kv("path", f.path));
    return;
  }
  ASSAS_LOG(kInfo, "following file", log::kv("collector", config_.name), log::kv("path", f.path),
            log::kv("from_offset", start.offset));
  if (f.fd >= 0) {
    start.fd = f.fd;
    f.fd = -1;
    open_tail(tracked, start);
  } else {
    tracked.wants_open = true;
  }
}

// Whether a file starts like one the agent follows or has a checkpoint for: then it is a copy
// (copytruncate), never a generation of its own.
bool FileCollector::starts_like_followed(std::string_view first_bytes) const {
  auto like = [&](const std::optional<Fingerprint>& f) {
    return f && f->length > 0 && starts_like(*f, first_bytes);
  };
  for (const auto& [key, tracked] : files_) {
    if (like(tracked.fingerprint) || (tracked.tail && like(tracked.tail->fingerprint()))) {
      return true;
    }
  }
  return std::any_of(positions_.begin(), positions_.end(), [&](const auto& entry) {
    return like(parse_fingerprint_token(entry.second.token));
  });
}

void FileCollector::set_path(Tracked& tracked, const FileKey& key, const std::string& path) {
  if (tracked.path == path) {
    return;
  }
  auto old = by_path_.find(tracked.path);
  if (old != by_path_.end() && old->second == key) {
    by_path_.erase(old);
  }
  tracked.path = path;
  by_path_[path] = key;
}

void FileCollector::open_tail(Tracked& tracked, TailStart start) {
  FileTail::Host& host = *this;
  tracked.tail = std::make_unique<FileTail>(loop_, host, config_, tracked.stream, start);
  tracked.wants_open = false;
  ++open_count_;
  tracked.tail->start();
}

// Closes the descriptor; the file stays tracked and is reopened at its position when it grows.
void FileCollector::close_tail(Tracked& tracked) {
  FileTail* tail = tracked.tail.release();
  tracked.position = tail->resume_offset();
  if (tail->fingerprint()) {
    tracked.fingerprint = tail->fingerprint();
  }
  --open_count_;
  ++closing_tails_;
  tail->close([this, tail] {
    delete tail;
    --closing_tails_;
    maybe_finish_close();
  });
}

void FileCollector::let_go(std::map<FileKey, Tracked>::iterator it) {
  Tracked& tracked = it->second;
  if (tracked.tail) {
    close_tail(tracked);
  }
  forget_at_[tracked.source_id] =
      uv_now(loop_) + static_cast<uint64_t>(config_.forget_after.count());
  by_source_.erase(tracked.source_id);
  auto path = by_path_.find(tracked.path);
  if (path != by_path_.end() && path->second == it->first) {
    by_path_.erase(path);
  }
  files_.erase(it);
}

// Every stat_interval and after each scan: lets go of rotated files that are done, closes idle
// descriptors, opens files that wait for one, and drops checkpoints of files long gone.
void FileCollector::housekeeping() {
  if (closing_) {
    return;
  }
  uint64_t now = uv_now(loop_);
  auto rotate_wait = static_cast<uint64_t>(config_.rotate_wait.count());
  auto close_inactive = static_cast<uint64_t>(config_.close_inactive.count());
  bool someone_waits = std::any_of(files_.begin(), files_.end(),
                                   [](const auto& entry) { return entry.second.wants_open; });
  for (auto it = files_.begin(); it != files_.end();) {
    auto next = std::next(it);
    Tracked& tracked = it->second;
    FileTail* tail = tracked.tail.get();
    if (tail == nullptr) {
      it = next;
      continue;
    }
    switch (tail->state()) {
      case FileTail::State::kFailed:
        // Gone, or renamed before it could be opened: looked for by inode at the next scan.
        close_tail(tracked);
        tracked.in_glob = false;
        tracked.left_glob_ms = now;
        tracked.searched = true;
        search_for_.insert(it->first);
        request_scan();
        it = next;
        continue;
      case FileTail::State::kCompressed:
        close_tail(tracked);
        tracked.ignored = true;
        ++stats_.compressed_skipped;
        ASSAS_LOG(kInfo, "compressed file is not read", log::kv("collector", config_.name),
                  log::kv("path", tracked.path));
        it = next;
        continue;
      case FileTail::State::kOpening:
      case FileTail::State::kReading:
        break;
    }
    bool idle = tail->idle_at_end();
    uint64_t quiet = now - std::min(now, tail->last_activity_ms());
    if (idle && quiet >= static_cast<uint64_t>(config_.stat_interval.count())) {
      tail->release_read_buffer();  // quiet for a while: busy files keep theirs
    }
    // A rotated file may still be written until its program reopens its log: rotate_wait counts
    // from its last read or from the rotation, whichever came later.
    uint64_t since_rotation =
        now - std::min(now, std::max(tail->last_activity_ms(), tracked.left_glob_ms));
    if (!tracked.in_glob && idle && since_rotation >= rotate_wait) {
      tail->flush_held();  // the writer is done with it: a partial line or event goes out now
    }
    bool done = idle && tail->holds_nothing() && tracked.durable >= tail->resume_offset();
    if (!tracked.in_glob && done && since_rotation >= rotate_wait) {
      ASSAS_LOG(kInfo, "read a rotated or deleted file to its end; letting it go",
                log::kv("collector", config_.name), log::kv("path", tracked.path),
                log::kv("offset", tail->resume_offset()));
      let_go(it);
    } else if (tracked.in_glob && done && (quiet >= close_inactive || someone_waits)) {
      close_tail(tracked);
    }
    it = next;
  }
  open_waiting();
  std::vector<std::string> forget;
  for (auto it = forget_at_.begin(); it != forget_at_.end();) {
    if (it->second <= now) {
      forget.push_back(it->first);
      it = forget_at_.erase(it);
    } else {
      ++it;
    }
  }
  if (!forget.empty()) {
    stats_.forgotten += forget.size();
    ASSAS_LOG(kInfo, "dropping the checkpoints of files gone for longer than forget_after",
              log::kv("collector", config_.name), log::kv("count", uint64_t{forget.size()}));
    sink_->forget(forget);
  }
}

void FileCollector::open_waiting() {
  for (auto& [key, tracked] : files_) {
    if (open_count_ + reserved_by_scan_ >= config_.max_open_files) {
      return;
    }
    if (tracked.wants_open && !tracked.tail && !tracked.ignored) {
      TailStart start;
      start.offset = tracked.position;
      start.expected = tracked.fingerprint;
      start.device = key.first;
      start.inode = key.second;
      open_tail(tracked, start);
    }
  }
}

void FileCollector::watch_directories(const std::set<std::string>& dirs) {
  for (const std::string& dir : dirs) {
    if (watches_.count(dir) != 0) {
      continue;
    }
    auto watch = std::make_unique<DirWatch>();
    watch->owner = this;
    watch->dir = dir;
    ASSAS_CHECK(uv_fs_event_init(loop_, &watch->handle) == 0, "fs event init cannot fail");
    watch->handle.data = watch.get();
    int rc = uv_fs_event_start(&watch->handle, &FileCollector::on_dir_event, dir.c_str(), 0);
    if (rc != 0) {
      // No inotify here (or out of watches): the stat_interval and rescan_interval timers still
      // find every change, only later.
      ASSAS_LOG(kWarn, "cannot watch directory; changes are found by polling", log::kv("path", dir),
                log::kv("error", uv_strerror(rc)));
    }
    watches_.emplace(dir, std::move(watch));
  }
}

void FileCollector::on_dir_event(uv_fs_event_t* handle, const char* name, int events,
                                 int /*status*/) noexcept {
  auto* watch = static_cast<DirWatch*>(handle->data);
  FileCollector* self = watch->owner;
  if (self->closing_) {
    return;
  }
  if ((events & UV_RENAME) != 0 || name == nullptr) {
    self->names_changed_ = true;
    self->request_scan();  // a name came or went: a new file, a rotation, a deletion
  }
  if (name == nullptr) {
    return;
  }
  auto at = self->by_path_.find((watch->dir == "/" ? "" : watch->dir) + "/" + name);
  if (at != self->by_path_.end()) {
    auto it = self->files_.find(at->second);
    if (it != self->files_.end()) {
      Tracked& tracked = it->second;
      if (tracked.tail) {
        tracked.tail->poke();
      } else if (!tracked.ignored) {
        tracked.wants_open = true;
        self->housekeeping();
      }
      return;
    }
  }
  // A name we do not follow: maybe a rotated file, still written under its new name.
  for (auto& [key, tracked] : self->files_) {
    if (tracked.tail && !tracked.in_glob) {
      tracked.tail->poke();
    }
  }
}

void FileCollector::on_truncated(FileTail& tail, const Fingerprint& before,
                                 uint64_t resume_offset) {
  copytruncate_dirs_.insert(dir_of(tail.stream().source));
  copies_.push_back(
      WantedCopy{before, resume_offset, uv_now(loop_) + kCopySearchMs, tail.stream().source});
  request_scan();
}

bool FileCollector::take_unfinished_event(FileTail& tail, UnfinishedEvent& out) {
  for (auto& [key, tracked] : files_) {
    if (tracked.tail && tracked.tail.get() != &tail && !tracked.in_glob &&
        tracked.tail->stream().source == tail.stream().source &&
        tracked.tail->give_unfinished_event(out)) {
      return true;
    }
  }
  return false;
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
  for (auto& [dir, watch] : watches_) {
    closer_.close(&watch->handle);
  }
  for (auto& [key, tracked] : files_) {
    if (tracked.tail) {
      close_tail(tracked);
    }
  }
  ASSAS_LOG(kInfo, "file collector stopped", log::kv("collector", config_.name),
            log::kv("lines_split", stats_.lines_split),
            log::kv("lines_truncated", stats_.lines_truncated),
            log::kv("partial_lines_sent", stats_.partial_lines_sent),
            log::kv("truncations", stats_.truncations),
            log::kv("replaced_files", stats_.replaced_files),
            log::kv("copies_found", stats_.copies_found),
            log::kv("compressed_skipped", stats_.compressed_skipped),
            log::kv("checkpoints_forgotten", stats_.forgotten));
  closer_.when_closed([](void* self) { static_cast<FileCollector*>(self)->maybe_finish_close(); },
                      this);
}

void FileCollector::maybe_finish_close() {
  if (!closing_ || closed_ || scanning_ || closing_tails_ > 0 || !closer_.idle() || !on_closed_) {
    return;
  }
  closed_ = true;
  watches_.clear();
  files_.clear();
  auto done = std::move(on_closed_);
  done();
}

}  // namespace assas::collectors
