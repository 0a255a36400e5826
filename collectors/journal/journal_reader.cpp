#include "collectors/journal/journal_reader.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <set>

#include <sys/prctl.h>

#include <poll.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "base/file_util.h"
#include "base/log.h"
#include "collectors/journal/journal_cursor.h"
#include "collectors/journal/journal_reader_options.h"
#include "collectors/journal/journal_wire.h"

namespace assas::collectors {

namespace {

// Frames are collected up to this many bytes per write(): fewer system calls while catching up.
constexpr size_t kWriteChunkBytes = 64 << 10;
// Room kept in a frame for everything but the field values (cursor, names, lengths).
constexpr size_t kFrameSlackBytes = 64 << 10;
constexpr uint64_t kMaxFieldNameBytes = 64;  // journald refuses longer field names

// Why the reader stops: the exit code of the child.
enum class Stop { kParentGone = 0, kFailed = 1 };

class JournalReader {
 public:
  explicit JournalReader(JournalReaderOptions options)
      : options_(std::move(options)), keep_(options_.fields.begin(), options_.fields.end()) {}
  ~JournalReader() {
    if (journal_ != nullptr) {
      sd_journal_close(journal_);
    }
  }
  JournalReader(const JournalReader&) = delete;
  JournalReader& operator=(const JournalReader&) = delete;

  Stop run();

 private:
  Stop fail(const std::string& text, int rc);
  int open();
  bool seek(bool& have_current);
  bool resume_after_lost_cursor(bool& have_current);
  bool read_entry(JournalEntry& entry);
  bool flush();
  std::optional<Stop> wait_for_more();

  JournalReaderOptions options_;
  std::set<std::string, std::less<>> keep_;
  sd_journal* journal_ = nullptr;
  std::string out_;
};

Stop JournalReader::fail(const std::string& text, int rc) {
  std::string message = rc < 0 ? text + ": " + std::strerror(-rc) : text;
  out_.clear();
  append_error_frame(out_, message);
  return flush() ? Stop::kFailed : Stop::kParentGone;
}

bool JournalReader::flush() {
  if (out_.empty()) {
    return true;
  }
  // Blocks while the pipe is full: that is the backpressure. Any failure means the agent is gone
  // or closed the pipe.
  bool ok = write_all(STDOUT_FILENO, out_, "journal reader output").is_ok();
  out_.clear();
  return ok;
}

// 0, or the negative errno of sd_journal_open*.
int JournalReader::open() {
  int rc = options_.directory.empty()
               ? sd_journal_open(&journal_, SD_JOURNAL_LOCAL_ONLY)
               : sd_journal_open_directory(&journal_, options_.directory.c_str(), 0);
  if (rc < 0) {
    journal_ = nullptr;
    return rc;
  }
  // The default threshold (64 KiB) would cut longer values without saying so; one byte more than
  // kept tells a cut value from one exactly at the limit.
  (void)sd_journal_set_data_threshold(
      journal_, static_cast<size_t>(options_.max_field_bytes + kMaxFieldNameBytes + 2));
  return 0;
}

// Positions the journal so that the next entry to send is the current one (have_current) or the
// one sd_journal_next() moves to.
bool JournalReader::seek(bool& have_current) {
  have_current = false;
  switch (options_.start) {
    case JournalStart::kHead:
      return sd_journal_seek_head(journal_) >= 0;
    case JournalStart::kTail: {
      if (sd_journal_seek_tail(journal_) < 0) {
        return false;
      }
      // On the last entry, so that next() gives the first new one; an empty journal is read from
      // its head, since everything in it will be new.
      int rc = sd_journal_previous(journal_);
      return rc > 0 || (rc == 0 && sd_journal_seek_head(journal_) >= 0);
    }
    case JournalStart::kAfterCursor: {
      const char* cursor = options_.cursor.c_str();
      if (sd_journal_seek_cursor(journal_, cursor) >= 0 && sd_journal_next(journal_) > 0 &&
          sd_journal_test_cursor(journal_, cursor) > 0) {
        return true;  // on the cursor's entry, which was sent already
      }
      return resume_after_lost_cursor(have_current);
    }
  }
  return false;
}

// The cursor's entry is gone (vacuumed, rotated away, its file truncated or deleted): resume at the
// oldest entry, skipping what the cursor says was sent, and report the gap.
bool JournalReader::resume_after_lost_cursor(bool& have_current) {
  std::optional<JournalSeqnum> saved = parse_journal_cursor(options_.cursor);
  if (sd_journal_seek_head(journal_) < 0) {
    return false;
  }
  std::optional<JournalSeqnum> first;
  int rc;
  while ((rc = sd_journal_next(journal_)) > 0) {
    char* text = nullptr;
    if (sd_journal_get_cursor(journal_, &text) < 0) {
      return false;
    }
    first = parse_journal_cursor(text);
    std::free(text);  // NOLINT(cppcoreguidelines-no-malloc): sd-journal allocates with malloc
    bool sent_before =
        saved && first && first->seqnum_id == saved->seqnum_id && first->seqnum <= saved->seqnum;
    if (!sent_before) {
      have_current = true;
      break;
    }
  }
  if (rc < 0) {
    return false;
  }
  JournalGap gap;
  gap.reason =
      "the entry of the saved cursor is gone from the journal (rotated away, vacuumed or "
      "its file truncated); resuming at the oldest entry after it";
  // With matches, sequence numbers count the entries that do not match too: the count would lie.
  if (saved && options_.match_groups.empty()) {
    gap.lost = have_current && first ? journal_entries_lost(*saved, *first) : std::nullopt;
  }
  append_gap_frame(out_, gap);
  ASSAS_LOG(kWarn, "journal cursor not found; resuming at the oldest entry",
            log::kv("cursor", options_.cursor),
            log::kv("lost", gap.lost ? std::to_string(*gap.lost) : std::string("unknown")));
  return flush();
}

bool JournalReader::read_entry(JournalEntry& entry) {
  entry.fields.clear();
  char* cursor = nullptr;
  if (sd_journal_get_cursor(journal_, &cursor) < 0) {
    return false;
  }
  entry.cursor = cursor;
  std::free(cursor);  // NOLINT(cppcoreguidelines-no-malloc): sd-journal allocates with malloc
  std::optional<JournalSeqnum> seqnum = parse_journal_cursor(entry.cursor);
  entry.seqnum = seqnum ? seqnum->seqnum : 0;
  if (sd_journal_get_realtime_usec(journal_, &entry.realtime_usec) < 0) {
    entry.realtime_usec = 0;
  }
  // Whatever the limits, a frame stays below the agent's maximum: values are cut to fit.
  size_t budget = kMaxJournalFrameBytes - kFrameSlackBytes - entry.cursor.size();
  const void* data = nullptr;
  size_t length = 0;
  sd_journal_restart_data(journal_);
  while (sd_journal_enumerate_available_data(journal_, &data, &length) > 0) {
    std::string_view item(static_cast<const char*>(data), length);
    size_t equals = item.find('=');
    if (equals == std::string_view::npos) {
      continue;
    }
    std::string_view name = item.substr(0, equals);
    std::string_view value = item.substr(equals + 1);
    if (name != "MESSAGE" && !options_.all_fields && keep_.find(name) == keep_.end()) {
      continue;
    }
    size_t limit = std::min<size_t>(options_.max_field_bytes, budget);
    bool cut = value.size() > limit;
    if (cut) {
      value = value.substr(0, limit);
    }
    budget -= std::min(budget, value.size() + name.size() + 16);
    entry.fields.push_back(JournalField{std::string(name), std::string(value), cut});
  }
  return true;
}

// Waits for the journal to change; nullopt: read on.
std::optional<Stop> JournalReader::wait_for_more() {
  if (getppid() != options_.parent) {
    return Stop::kParentGone;
  }
  int fd = sd_journal_get_fd(journal_);
  if (fd < 0) {
    return fail("cannot watch the journal for new entries", fd);
  }
  int events = sd_journal_get_events(journal_);
  uint64_t until_usec = 0;
  int timeout_ms = -1;
  if (sd_journal_get_timeout(journal_, &until_usec) >= 0 && until_usec != UINT64_MAX) {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t now_usec = static_cast<uint64_t>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
    uint64_t wait_usec = until_usec > now_usec ? until_usec - now_usec : 0;
    timeout_ms = static_cast<int>(std::min<uint64_t>((wait_usec + 999) / 1000, INT32_MAX));
  }
  // stdout is watched too: the agent closing the pipe shows as POLLERR, and the child goes.
  pollfd fds[2] = {{fd, static_cast<short>(events > 0 ? events : POLLIN), 0},
                   {STDOUT_FILENO, 0, 0}};
  int rc = ::poll(fds, 2, timeout_ms);
  if (rc < 0 && errno != EINTR) {
    return fail("poll on the journal failed", -errno);
  }
  if ((fds[1].revents & (POLLERR | POLLHUP)) != 0) {
    return Stop::kParentGone;
  }
  rc = sd_journal_process(journal_);
  if (rc < 0) {
    return fail("cannot process journal changes", rc);
  }
  return std::nullopt;
}

Stop JournalReader::run() {
  if (int rc = open(); rc < 0) {
    return fail(options_.directory.empty()
                    ? std::string("cannot open the system journal (is the agent's user in the "
                                  "systemd-journal group?)")
                    : "cannot open the journal directory '" + options_.directory + "'",
                rc);
  }
  bool first_group = true;
  for (const std::vector<std::string>& group : options_.match_groups) {
    if (!first_group && sd_journal_add_conjunction(journal_) < 0) {
      return fail("cannot combine journal matches", -EINVAL);
    }
    first_group = false;
    for (const std::string& match : group) {
      int rc = sd_journal_add_match(journal_, match.data(), match.size());
      if (rc < 0) {
        return fail("bad journal match '" + match + "'", rc);
      }
    }
  }
  bool have_current = false;
  if (!seek(have_current)) {
    return fail("cannot seek in the journal", -EIO);
  }
  JournalEntry entry;
  for (;;) {
    int rc = have_current ? 1 : sd_journal_next(journal_);
    have_current = false;
    if (rc < 0) {
      return fail("cannot read the next journal entry", rc);
    }
    if (rc > 0) {
      if (!read_entry(entry)) {
        return fail("cannot read a journal entry", -EIO);
      }
      append_entry_frame(out_, entry);
      if (out_.size() >= kWriteChunkBytes && !flush()) {
        return Stop::kParentGone;
      }
      continue;
    }
    if (!flush()) {
      return Stop::kParentGone;
    }
    if (std::optional<Stop> stop = wait_for_more()) {
      return *stop;
    }
  }
}

}  // namespace

int run_journal_reader(const std::vector<std::string>& args) {
  // The child needs stdout (the pipe) and stderr (the log) only. Whatever else the agent inherited
  // without close-on-exec (libuv closes nothing when it spawns) is not the reader's to hold.
  (void)::close_range(3, ~0U, 0);
  log::set_program("assas-journal-reader");
  Result<JournalReaderOptions> options = parse_journal_reader_args(args);
  if (!options.is_ok()) {
    ASSAS_LOG(kError, "bad arguments", log::kv("error", options.status().message()));
    return 2;
  }
  log::Level level = log::Level::kInfo;
  if (log::parse_level(options->log_level, level)) {
    log::set_min_level(level);
  }
  // The agent may die without closing the pipe (kill -9 while this waits in poll): then the kernel
  // ends the child too. The getppid() check covers an agent that died before this line ran.
  (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != options->parent) {
    return 0;
  }
  (void)std::signal(SIGPIPE, SIG_IGN);  // a gone agent is EPIPE on the write, then exit 0
  JournalReader reader(std::move(options).value());
  return static_cast<int>(reader.run());
}

}  // namespace assas::collectors
