#include "collectors/journal/journal_collector.h"

#include <algorithm>
#include <cstring>

#include <unistd.h>

#include "base/log.h"
#include "base/realtime.h"

namespace assas::collectors {

namespace {

constexpr uint64_t kFirstBackoffMs = 100;
constexpr uint64_t kMaxBackoffMs = 5000;
constexpr uint64_t kRanWellMs = 10'000;  // a child that ran this long resets the backoff
constexpr uint64_t kKillAfterMs = 2000;  // SIGTERM at close, then SIGKILL after this
constexpr size_t kReadBufferBytes = 64 << 10;

const char* level_name(log::Level level) {
  switch (level) {
    case log::Level::kDebug:
      return "debug";
    case log::Level::kInfo:
      return "info";
    case log::Level::kWarn:
      return "warn";
    case log::Level::kError:
      return "error";
  }
  return "info";
}

std::string signal_name(int signal) {
  const char* abbrev = sigabbrev_np(signal);
  return abbrev != nullptr ? std::string("SIG") + abbrev : std::to_string(signal);
}

}  // namespace

// One run of the reader: its process and the read end of its stdout. Freed only from its closer's
// callback, once both handles closed.
struct JournalCollector::Child {
  JournalCollector* owner = nullptr;
  uv_process_t process{};
  uv_pipe_t pipe{};
  uint64_t started_ms = 0;
  bool exited = false;
  bool eof = false;  // the pipe ended or failed: nothing more to read
  bool reading = false;
  bool retiring = false;
  HandleCloser closer;
  std::array<char, kReadBufferBytes> buffer{};
};

JournalCollector::JournalCollector(uv_loop_t* loop, JournalCollectorConfig config)
    : loop_(loop), config_(std::move(config)), backoff_ms_(kFirstBackoffMs) {
  ASSAS_CHECK(uv_timer_init(loop_, &restart_timer_) == 0, "timer init cannot fail");
  ASSAS_CHECK(uv_timer_init(loop_, &kill_timer_) == 0, "timer init cannot fail");
  restart_timer_.data = this;
  kill_timer_.data = this;
}

JournalCollector::~JournalCollector() {
  ASSAS_CHECK(closed_, "JournalCollector destroyed before close() completed");
}

Status JournalCollector::start(agent::EventSink& sink, const agent::PositionMap& positions) {
  sink_ = &sink;
  std::string source_id = "journal:" + config_.name;
  stream_ = std::make_shared<const agent::Stream>(agent::Stream{
      config_.name, config_.directory.empty() ? "journal" : config_.directory, source_id, {}});
  auto saved = positions.find(source_id);
  if (saved != positions.end() && !saved->second.token.empty()) {
    resume_cursor_ = saved->second.token;  // a checkpoint always wins over start_at
  } else if (config_.start_at == JournalStartAt::kCursor) {
    resume_cursor_ = config_.cursor;
  }
  spawn();
  return Status::ok();
}

JournalReaderOptions JournalCollector::reader_options() const {
  JournalReaderOptions o;
  o.parent = ::getpid();
  o.directory = config_.directory;
  if (!config_.matches.empty()) {
    o.match_groups.push_back(config_.matches);
  }
  if (!config_.units.empty()) {
    o.match_groups.push_back(config_.units);
  }
  if (!resume_cursor_.empty()) {
    o.start = JournalStart::kAfterCursor;
    o.cursor = resume_cursor_;
  } else {
    o.start =
        config_.start_at == JournalStartAt::kBeginning ? JournalStart::kHead : JournalStart::kTail;
  }
  o.fields = config_.fields;
  o.all_fields = config_.all_fields;
  o.max_field_bytes = config_.max_entry_size_bytes;
  o.log_level = level_name(log::min_level());
  return o;
}

void JournalCollector::spawn() {
  ASSAS_CHECK(child_ == nullptr, "one reader at a time: spawn() runs only once the last retired");
  auto child = std::make_unique<Child>();
  child->owner = this;
  ASSAS_CHECK(uv_pipe_init(loop_, &child->pipe, 0) == 0, "pipe init cannot fail");
  child->pipe.data = child.get();
  child->process.data = child.get();

  // /proc/self/exe is this very binary, also after a package upgrade replaced the file on disk.
  std::string exe = "/proc/self/exe";
  std::vector<std::string> args = journal_reader_args(reader_options());
  args.insert(args.begin(), {exe, "--journal-reader"});
  std::vector<char*> argv;
  for (std::string& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  uv_stdio_container_t stdio[3];
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[1].data.stream = reinterpret_cast<uv_stream_t*>(&child->pipe);
  stdio[2].flags = UV_INHERIT_FD;
  stdio[2].data.fd = STDERR_FILENO;
  uv_process_options_t options{};
  options.file = exe.c_str();
  options.args = argv.data();
  options.exit_cb = &JournalCollector::on_exit;
  options.stdio_count = 3;
  options.stdio = stdio;
  child->started_ms = uv_now(loop_);
  if (started_once_) {
    ++stats_.restarts;
  }
  started_once_ = true;
  int rc = uv_spawn(loop_, &child->process, &options);
  child_ = std::move(child);
  if (rc != 0) {
    ASSAS_LOG(kError, "cannot start the journal reader; retrying", log::kv("collector", name()),
              log::kv("error", uv_strerror(rc)), log::kv("retry_ms", backoff_ms_));
    // The handles are initialised all the same and must be closed; no exit callback will come.
    child_->exited = true;
    child_->eof = true;
    maybe_retire();
    return;
  }
  ASSAS_LOG(kInfo, "journal reader started", log::kv("collector", name()),
            log::kv("pid", static_cast<int64_t>(child_->process.pid)),
            log::kv("after_cursor", resume_cursor_));
  update_reading();
}

bool JournalCollector::paused() const {
  return pauses_.paused();
}

void JournalCollector::pause(agent::PauseReason why) {
  pauses_.pause(why);
  update_reading();
}

void JournalCollector::resume(agent::PauseReason why) {
  pauses_.resume(why);
  if (!paused()) {
    drain();
  }
}

// Reads the pipe only while everything read so far was taken: what the decoder holds stays below
// one read plus one frame, and a paused pipeline leaves the child blocked on a full pipe.
void JournalCollector::update_reading() {
  Child* child = child_.get();
  if (child == nullptr || child->eof) {
    return;
  }
  bool want = !closing_ && !paused() && !pending_ && !decoder_.has_frame();
  if (want && !child->reading) {
    int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&child->pipe),
                           &JournalCollector::on_alloc, &JournalCollector::on_read);
    if (rc != 0) {
      ASSAS_LOG(kError, "cannot read from the journal reader", log::kv("collector", name()),
                log::kv("error", uv_strerror(rc)));
      child->eof = true;
      uv_process_kill(&child->process, SIGKILL);
      return;
    }
    child->reading = true;
  } else if (!want && child->reading) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&child->pipe));
    child->reading = false;
  }
}

void JournalCollector::on_alloc(uv_handle_t* handle, size_t /*suggested*/, uv_buf_t* buf) noexcept {
  auto* child = static_cast<Child*>(handle->data);
  *buf = uv_buf_init(child->buffer.data(), static_cast<unsigned>(child->buffer.size()));
}

void JournalCollector::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
  auto* child = static_cast<Child*>(stream->data);
  JournalCollector* self = child->owner;
  if (nread > 0) {
    self->decoder_.append(std::string_view(buf->base, static_cast<size_t>(nread)));
  } else if (nread < 0) {
    if (nread != UV_EOF) {
      ASSAS_LOG(kWarn, "reading from the journal reader failed", log::kv("collector", self->name()),
                log::kv("error", uv_strerror(static_cast<int>(nread))));
    }
    uv_read_stop(stream);
    child->reading = false;
    child->eof = true;
  }
  self->drain();
}

void JournalCollector::drain() {
  while (!paused() && !closing_) {
    if (pending_) {
      const agent::Event& event = builder_.build(*pending_, pending_read_ns_);
      if (!sink_->push(stream_, event)) {
        break;  // kept; offered again after resume()
      }
      pending_.reset();
      continue;
    }
    if (!child_) {
      break;
    }
    Result<std::optional<JournalFrame>> frame = decoder_.next();
    if (!frame.is_ok()) {
      // A child that writes garbage cannot be trusted with the rest: it is killed and a new one
      // resumes after the last entry that decoded.
      ++stats_.broken_streams;
      ASSAS_LOG(kError, "the journal reader sent bytes that do not decode; restarting it",
                log::kv("collector", name()), log::kv("error", frame.status().message()));
      decoder_.clear();
      if (child_->reading) {
        uv_read_stop(reinterpret_cast<uv_stream_t*>(&child_->pipe));
        child_->reading = false;
      }
      child_->eof = true;
      if (!child_->exited) {
        uv_process_kill(&child_->process, SIGKILL);
      }
      break;
    }
    if (!frame->has_value()) {
      break;
    }
    handle_frame(std::move(**frame));
  }
  update_reading();
  maybe_retire();
}

void JournalCollector::handle_frame(JournalFrame&& frame) {
  switch (frame.kind) {
    case JournalFrameKind::kEntry:
      ++stats_.entries;
      resume_cursor_ = frame.entry.cursor;
      pending_read_ns_ = realtime_ns();
      pending_ = std::move(frame.entry);
      last_error_.clear();
      break;
    case JournalFrameKind::kGap:
      ++stats_.gaps;
      stats_.lost_entries += frame.gap.lost.value_or(0);
      ASSAS_LOG(kWarn, "journal entries were lost before they could be read",
                log::kv("collector", name()),
                log::kv("lost", frame.gap.lost ? std::to_string(*frame.gap.lost) : "unknown"),
                log::kv("reason", frame.gap.reason));
      break;
    case JournalFrameKind::kError:
      // A reader that cannot open the journal says so at every restart: logged once per spell.
      if (frame.error != last_error_) {
        ASSAS_LOG(kError, "the journal reader cannot read the journal; retrying",
                  log::kv("collector", name()), log::kv("error", frame.error));
        last_error_ = frame.error;
      }
      break;
  }
}

void JournalCollector::on_exit(uv_process_t* process, int64_t exit_status,
                               int term_signal) noexcept {
  auto* child = static_cast<Child*>(process->data);
  JournalCollector* self = child->owner;
  child->exited = true;
  if (!self->closing_) {
    if (term_signal != 0) {
      ASSAS_LOG(kWarn, "journal reader died; restarting it after the last entry received",
                log::kv("collector", self->name()), log::kv("signal", signal_name(term_signal)),
                log::kv("pid", static_cast<int64_t>(process->pid)));
    } else if (exit_status == 1 && !self->last_error_.empty()) {
      // It said why in an ERROR frame, logged once: the restarts of one spell are not news.
      ASSAS_LOG(kDebug, "journal reader gave up; retrying", log::kv("collector", self->name()));
    } else {
      ASSAS_LOG(kWarn, "journal reader exited; restarting it after the last entry received",
                log::kv("collector", self->name()), log::kv("exit_code", exit_status),
                log::kv("pid", static_cast<int64_t>(process->pid)));
    }
  }
  self->maybe_retire();
}

// A child that exited and whose output was all decoded is let go, and its successor scheduled.
void JournalCollector::maybe_retire() {
  Child* child = child_.get();
  if (child == nullptr || !child->exited || child->retiring) {
    return;
  }
  if (!closing_ && (!child->eof || decoder_.has_frame())) {
    return;  // frames still to come or to hand over: they move the resume cursor
  }
  child->retiring = true;
  decoder_.clear();  // at most a frame cut short by the death
  uint64_t ran_ms = uv_now(loop_) - child->started_ms;
  ++retiring_;
  child->closer.close(&child->pipe);
  child->closer.close(&child->process);
  child->closer.when_closed(
      [](void* owner) {
        std::unique_ptr<Child> gone(static_cast<Child*>(owner));
        JournalCollector* self = gone->owner;
        --self->retiring_;
        self->maybe_finish_close();
      },
      child_.release());
  if (ran_ms >= kRanWellMs) {
    backoff_ms_ = kFirstBackoffMs;
  }
  schedule_restart();
}

void JournalCollector::schedule_restart() {
  if (closing_) {
    maybe_finish_close();
    return;
  }
  ASSAS_CHECK(
      uv_timer_start(&restart_timer_, &JournalCollector::on_restart_timer, backoff_ms_, 0) == 0,
      "timer start cannot fail");
  backoff_ms_ = std::min(backoff_ms_ * 2, kMaxBackoffMs);
}

void JournalCollector::on_restart_timer(uv_timer_t* timer) noexcept {
  auto* self = static_cast<JournalCollector*>(timer->data);
  if (!self->closing_ && self->child_ == nullptr) {
    self->spawn();
  }
}

void JournalCollector::on_kill_timer(uv_timer_t* timer) noexcept {
  auto* self = static_cast<JournalCollector*>(timer->data);
  if (self->child_ && !self->child_->exited) {
    ASSAS_LOG(kWarn, "journal reader did not stop on SIGTERM; killing it",
              log::kv("collector", self->name()));
    uv_process_kill(&self->child_->process, SIGKILL);
  }
}

void JournalCollector::metrics(std::vector<agent::CollectorMetric>& out) const {
  out.push_back({"assas_journal_entries_total",
                 "counter",
                 "Journal entries received from the reader.",
                 {},
                 stats_.entries});
  out.push_back({"assas_journal_reader_restarts_total",
                 "counter",
                 "Journal reader processes started again after one exited or died.",
                 {},
                 stats_.restarts});
  out.push_back({"assas_journal_gaps_total",
                 "counter",
                 "Resumes where the saved cursor's entry was gone from the journal.",
                 {},
                 stats_.gaps});
  out.push_back({"assas_journal_lost_entries_total",
                 "counter",
                 "Journal entries known to be lost in those gaps (unknown counts add 0).",
                 {},
                 stats_.lost_entries});
}

void JournalCollector::close(std::function<void()> on_closed) {
  if (closing_) {
    return;
  }
  closing_ = true;
  on_closed_ = std::move(on_closed);
  uv_timer_stop(&restart_timer_);
  ASSAS_LOG(kInfo, "journal collector stopped", log::kv("collector", name()),
            log::kv("entries", stats_.entries), log::kv("reader_restarts", stats_.restarts),
            log::kv("gaps", stats_.gaps), log::kv("lost_entries", stats_.lost_entries));
  if (Child* child = child_.get(); child != nullptr) {
    if (child->reading) {
      uv_read_stop(reinterpret_cast<uv_stream_t*>(&child->pipe));
      child->reading = false;
    }
    child->eof = true;
    // Closing the pipe first makes a child blocked in write() fail with EPIPE and exit at once.
    child->closer.close(&child->pipe);
    if (!child->exited) {
      uv_process_kill(&child->process, SIGTERM);
      ASSAS_CHECK(
          uv_timer_start(&kill_timer_, &JournalCollector::on_kill_timer, kKillAfterMs, 0) == 0,
          "timer start cannot fail");
    }
    maybe_retire();
  }
  maybe_finish_close();
}

void JournalCollector::maybe_finish_close() {
  if (!closing_ || closed_ || child_ != nullptr || retiring_ > 0 || !on_closed_) {
    return;
  }
  closed_ = true;
  uv_timer_stop(&kill_timer_);
  closer_.close(&restart_timer_);
  closer_.close(&kill_timer_);
  closer_.when_closed(
      [](void* self) {
        auto done = std::move(static_cast<JournalCollector*>(self)->on_closed_);
        done();
      },
      this);
}

}  // namespace assas::collectors
