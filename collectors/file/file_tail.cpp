#include "collectors/file/file_tail.h"

#include <algorithm>

#include <fcntl.h>

#include "base/log.h"
#include "base/realtime.h"

namespace assas::collectors {
namespace {

// A read buffer this small is kept while the file rests.
constexpr size_t kKeptBufferBytes = 16 << 10;

// While a read is in flight the flush timer waits this long and looks again.
constexpr uint64_t kBusyRetryMs = 20;

}  // namespace

FileTail::FileTail(uv_loop_t* loop, Host& host, const FileCollectorConfig& config,
                   agent::StreamPtr stream, const TailStart& start)
    : loop_(loop),
      host_(host),
      config_(config),
      stream_(std::move(stream)),
      start_(start),
      splitter_(config.max_line_bytes, config.strip_cr, config.long_lines == LongLines::kTruncate) {
  if (config_.multiline.start) {
    joiner_ = std::make_unique<MultilineJoiner>(config_.multiline);
  }
  splitter_.reset(start.offset);
  emitted_offset_ = start.offset;
  last_activity_ms_ = uv_now(loop_);
  req_.data = this;
  ASSAS_CHECK(uv_timer_init(loop_, &flush_timer_) == 0, "timer init cannot fail");
  flush_timer_.data = this;
}

FileTail::~FileTail() {
  ASSAS_CHECK(closed_, "FileTail destroyed open");
}

void FileTail::start() {
  busy_ = true;
  step_ = Step::kOpen;
  if (start_.fd >= 0) {
    fd_ = start_.fd;  // opened by the scan: check its identity like any other
    step_ = Step::kStat;
    int rc = uv_fs_fstat(loop_, &req_, fd_, &FileTail::on_fs);
    ASSAS_CHECK(rc == 0, "uv_fs_fstat only fails on invalid arguments");
    return;
  }
  int rc =
      uv_fs_open(loop_, &req_, stream_->source.c_str(), O_RDONLY | O_CLOEXEC, 0, &FileTail::on_fs);
  ASSAS_CHECK(rc == 0, "uv_fs_open only fails on invalid arguments");
}

void FileTail::on_fs(uv_fs_t* req) noexcept {
  auto* self = static_cast<FileTail*>(req->data);
  ssize_t result = req->result;
  uv_stat_t st{};
  bool has_stat = req->fs_type == UV_FS_FSTAT && result >= 0;
  if (has_stat) {
    st = req->statbuf;
  }
  uv_fs_req_cleanup(req);
  self->busy_ = false;
  self->on_done(self->step_, result, has_stat ? &st : nullptr);
}

void FileTail::on_done(Step step, ssize_t result, const uv_stat_t* st) {
  if (step == Step::kClose) {
    fd_ = -1;
    maybe_finish_close();
    return;
  }
  if (closing_) {
    if (step == Step::kOpen && result >= 0) {
      fd_ = static_cast<uv_file>(result);
    }
    maybe_finish_close();
    return;
  }
  switch (step) {
    case Step::kOpen:
      on_opened(result);
      return;
    case Step::kStat:
      if (st == nullptr) {
        ASSAS_LOG(kWarn, "cannot stat file", log::kv("path", stream_->source),
                  log::kv("error", uv_strerror(static_cast<int>(result))));
        at_end_ = true;
        return;
      }
      on_stat(*st);
      break;
    case Step::kFingerprint:
      on_fingerprint(result);
      break;
    case Step::kRead:
      on_read(result);
      return;
    case Step::kNone:
    case Step::kClose:
      break;
  }
  if (wanted_ && !busy_) {
    wanted_ = false;
    poke();
  }
}

void FileTail::on_opened(ssize_t result) {
  if (result < 0) {
    ASSAS_LOG(kWarn, "cannot open file; it will be looked for again at the next scan",
              log::kv("path", stream_->source),
              log::kv("error", uv_strerror(static_cast<int>(result))));
    state_ = State::kFailed;
    return;
  }
  fd_ = static_cast<uv_file>(result);
  stat();
}

void FileTail::on_stat(const uv_stat_t& st) {
  if (state_ == State::kOpening) {
    if (st.st_dev != start_.device || st.st_ino != start_.inode) {
      // Renamed between the scan and the open: this path now names another file. The collector
      // finds ours again by its inode.
      state_ = State::kFailed;
      return;
    }
    size_ = st.st_size;
    read_fingerprint();
    return;
  }
  size_ = st.st_size;
  if (size_ < splitter_.offset()) {
    restart_from_zero(fingerprint_.value_or(Fingerprint{}),
                      "file shrank below the read position (truncated)", size_);
    read_fingerprint();
    return;
  }
  if (size_ > splitter_.offset() || !fingerprint_) {
    // Before reading what was appended, check that the file still starts as it did: a file
    // truncated and written again past the read position between two looks does not shrink. The
    // first KiB is in the page cache; this costs one small read per burst of appends. It also
    // lets a young file's fingerprint grow with it.
    read_fingerprint();
  } else {
    rest();
  }
}

void FileTail::read_fingerprint() {
  busy_ = true;
  step_ = Step::kFingerprint;
  first_bytes_.resize(kFingerprintBytes);
  uv_buf_t buf = uv_buf_init(first_bytes_.data(), static_cast<unsigned>(first_bytes_.size()));
  int rc = uv_fs_read(loop_, &req_, fd_, &buf, 1, 0, &FileTail::on_fs);
  ASSAS_CHECK(rc == 0, "uv_fs_read only fails on invalid arguments");
}

void FileTail::on_fingerprint(ssize_t result) {
  if (read_failed(result)) {
    return;
  }
  first_bytes_.resize(static_cast<size_t>(result));
  if (state_ == State::kOpening) {
    if (looks_compressed(stream_->source, first_bytes_)) {
      state_ = State::kCompressed;
      return;
    }
    state_ = State::kReading;
    if (start_.expected && !starts_like(*start_.expected, first_bytes_)) {
      restart_from_zero(*start_.expected,
                        "the file under this inode is not the one checkpointed (inode reused)",
                        size_);
      ++host_.stats().replaced_files;
    } else if (splitter_.offset() > size_) {
      restart_from_zero(start_.expected.value_or(fingerprint_of(first_bytes_)),
                        "file is shorter than its checkpoint (truncated)", size_);
    }
  } else if (fingerprint_ && !starts_like(*fingerprint_, first_bytes_)) {
    // Truncated and written again past the read position between two looks.
    restart_from_zero(*fingerprint_, "the first bytes of the file changed (rewritten)", size_);
  }
  fingerprint_ = fingerprint_of(first_bytes_);
  token_ = fingerprint_token(*fingerprint_);
  read_or_rest();
}

void FileTail::restart_from_zero(Fingerprint before, std::string_view why, uint64_t size) {
  ASSAS_LOG(kWarn, why, log::kv("path", stream_->source), log::kv("size", size),
            log::kv("position", splitter_.offset()),
            log::kv("resuming_copy_from", emitted_offset_));
  ++host_.stats().truncations;
  host_.on_truncated(*this, before, emitted_offset_);
  splitter_.reset(0);
  emitted_offset_ = 0;
  fingerprint_.reset();  // taken again from the new first bytes
  has_unpushed_ = false;
  partial_deadline_ms_ = 0;
  if (joiner_) {
    joiner_->clear();  // its lines are in the copy, if there is one
  }
  carried_.reset();
}

// A failed read (EIO, a file on a vanished mount): logged; the tail rests until the next poke.
bool FileTail::read_failed(ssize_t result) {
  if (result >= 0) {
    return false;
  }
  ASSAS_LOG(kWarn, "cannot read file", log::kv("path", stream_->source),
            log::kv("error", uv_strerror(static_cast<int>(result))));
  at_end_ = true;
  return true;
}

// Reads what the last stat says is there, or rests at the end (with the flush timer armed).
void FileTail::read_or_rest() {
  if (size_ > splitter_.offset()) {
    read();
  } else {
    rest();
  }
}

// At the end of the file with everything pushed: wait for the next poke.
void FileTail::rest() {
  at_end_ = true;
  arm_flush_timer();
}

void FileTail::release_read_buffer() {
  if (idle_at_end() && buffer_.capacity() > kKeptBufferBytes) {
    splitter_.feed({});  // the splitter holds no view into the buffer any more
    std::string().swap(buffer_);
  }
}

void FileTail::on_read(ssize_t result) {
  if (read_failed(result)) {
    return;
  }
  if (result == 0) {
    rest();
  } else {
    read_time_ns_ = realtime_ns();
    last_activity_ms_ = uv_now(loop_);
    splitter_.feed(std::string_view(buffer_.data(), static_cast<size_t>(result)));
    has_unpushed_ = true;
    if (drain()) {
      if (splitter_.offset() < size_) {
        read();  // keep reading up to the size of the last stat
        return;
      }
      rest();
    }
  }
  if (wanted_ && !busy_) {
    wanted_ = false;
    poke();
  }
}

void FileTail::poke() {
  if (closing_ || fd_ < 0 || state_ == State::kFailed || state_ == State::kCompressed ||
      state_ == State::kOpening) {
    return;
  }
  if (busy_) {
    wanted_ = true;
    return;
  }
  if (has_unpushed_ && !drain()) {
    return;  // still paused; resume() pokes again
  }
  if (!flush_due(false)) {
    return;
  }
  stat();  // and from there, read up to the end of the file
}

void FileTail::stat() {
  if (host_.paused()) {
    return;
  }
  busy_ = true;
  step_ = Step::kStat;
  at_end_ = false;
  int rc = uv_fs_fstat(loop_, &req_, fd_, &FileTail::on_fs);
  ASSAS_CHECK(rc == 0, "uv_fs_fstat only fails on invalid arguments");
}

void FileTail::read() {
  if (host_.paused()) {
    return;  // resume() pokes, and reading continues at the same offset
  }
  busy_ = true;
  step_ = Step::kRead;
  at_end_ = false;
  // As much room as the last stat says is waiting (a page at least), up to read_buffer: a file
  // that gets a line now and then never needs the whole buffer.
  uint64_t waiting = size_ > splitter_.offset() ? size_ - splitter_.offset() : 0;
  uint64_t want = std::clamp<uint64_t>((waiting + 4095) / 4096 * 4096, 4096,
                                       std::max<uint64_t>(config_.read_buffer_bytes, 4096));
  if (buffer_.size() < want) {
    buffer_.resize(want);
  }
  uv_buf_t buf = uv_buf_init(buffer_.data(), static_cast<unsigned>(buffer_.size()));
  int rc = uv_fs_read(loop_, &req_, fd_, &buf, 1, static_cast<int64_t>(splitter_.offset()),
                      &FileTail::on_fs);
  ASSAS_CHECK(rc == 0, "uv_fs_read only fails on invalid arguments");
}

// Pushes the lines of the current chunk; false when the pipeline refused one (it has paused us)
// and lines remain. The buffer is not read into again before this returns true.
bool FileTail::drain() {
  Line line;
  while (splitter_.peek(line)) {
    if (host_.paused() || !offer(line)) {
      return false;
    }
    splitter_.consume();
  }
  has_unpushed_ = false;
  // The partial-line timeout is for a last line waiting for its newline. A chunk that ends mid-line
  // while more of the file waits (catching up on a backlog) is not that: its line continues in the
  // next read, and a deadline set here would cut it in two if the backlog takes longer than the
  // timeout (found by the slow-receiver fault test).
  if (splitter_.held_bytes() == 0 || splitter_.offset() < size_) {
    partial_deadline_ms_ = 0;
  } else if (partial_deadline_ms_ == 0 && config_.partial_line_timeout.count() > 0) {
    partial_deadline_ms_ =
        uv_now(loop_) + static_cast<uint64_t>(config_.partial_line_timeout.count());
  }
  return true;
}

// One line to the pipeline, through the multiline joiner when there is one. False: refused, offer
// the same line again later.
bool FileTail::offer(const Line& line) {
  if (!joiner_) {
    return push_line(line);
  }
  if (line.part > 0 || line.partial || line.truncated_from > 0) {
    // Pieces of over-long lines and flushed partial lines are events of their own.
    if (!joiner_->empty() && !push_joined()) {
      return false;
    }
    return push_line(line);
  }
  if (joiner_->empty() && emitted_offset_ == 0 && line.offset == 0 &&
      !joiner_->starts_event(line)) {
    UnfinishedEvent unfinished;
    if (host_.take_unfinished_event(*this, unfinished)) {
      joiner_->add_carried(unfinished.text, unfinished.offset, unfinished.lines);
      carried_ = std::move(unfinished);
    }
  }
  if (joiner_->must_send_before(line) && !push_joined()) {
    return false;
  }
  joiner_->add(line);
  joiner_deadline_ms_ = uv_now(loop_) + static_cast<uint64_t>(config_.multiline.timeout.count());
  return true;
}

bool FileTail::push_line(const Line& line) {
  agent::Event& event = event_;  // reused: its token string keeps its buffer
  event.fields = {};
  event.also_source_id = nullptr;
  event.time_ns = read_time_ns_;
  event.offset = line.offset;
  event.message = line.text;
  event.next.offset = line.next_offset;
  event.next.token = token_;
  agent::FieldView marker;
  if (line.part > 0) {
    marker_ = std::to_string(line.part) + (line.last_part ? "-last" : "");
    marker = {"split_part", marker_};
  } else if (line.truncated_from > 0) {
    marker_ = std::to_string(line.truncated_from);
    marker = {"truncated_from", marker_};
  } else if (line.partial) {
    marker = {"partial", "true"};
  }
  if (!marker.first.empty()) {
    event.fields = std::span<const agent::FieldView>(&marker, 1);
  }
  if (!host_.sink().push(stream_, event)) {
    return false;
  }
  emitted_offset_ = line.next_offset;
  FileStats& stats = host_.stats();
  if (line.part == 1) {
    ++stats.lines_split;
  } else if (line.truncated_from > 0) {
    ++stats.lines_truncated;
    ASSAS_LOG(kWarn, "line longer than max_line_bytes truncated", log::kv("path", stream_->source),
              log::kv("offset", line.offset), log::kv("length", line.truncated_from));
  } else if (line.partial) {
    ++stats.partial_lines_sent;
  }
  return true;
}

bool FileTail::push_joined() {
  JoinedEvent joined = joiner_->pending();
  agent::Event& event = event_;
  event.fields = {};
  event.also_source_id = nullptr;
  event.time_ns = read_time_ns_;
  event.offset = joined.offset;
  event.message = joined.text;
  const agent::StreamPtr* stream = &stream_;
  if (carried_) {
    // Begun in the rotated file: it is that file's event, and it completes both positions.
    stream = &carried_->stream;
    event.next = carried_->next;
    event.also_source_id = &stream_->source_id;
    event.also_next = agent::SourcePosition{joined.next_offset, token_};
  } else {
    event.next.offset = joined.next_offset;
    event.next.token = token_;
  }
  if (!host_.sink().push(*stream, event)) {
    return false;
  }
  emitted_offset_ = std::max(emitted_offset_, joined.next_offset);
  carried_.reset();
  joiner_->clear();
  return true;
}

bool FileTail::holds_nothing() const {
  return splitter_.held_bytes() == 0 && (!joiner_ || joiner_->empty());
}

void FileTail::flush_held() {
  if (!busy_ && !has_unpushed_ && !closing_) {
    (void)flush_due(true);
  }
}

// Sends what waited past its timeout (or everything, with force). False when the pipeline refused
// (a resume pokes again).
bool FileTail::flush_due(bool force) {
  uint64_t now = uv_now(loop_);
  if (joiner_ && !joiner_->empty() && (force || now >= joiner_deadline_ms_)) {
    if (!push_joined()) {
      return false;
    }
  }
  // Not while the last stat says more of the file waits: that completes the line.
  if (partial_deadline_ms_ != 0 &&
      (force || (now >= partial_deadline_ms_ && splitter_.offset() >= size_))) {
    Line line;
    if (splitter_.take_partial(line)) {
      if (!offer(line)) {
        return false;
      }
      splitter_.consume();
      if (joiner_ && !joiner_->empty() && !push_joined()) {
        return false;
      }
    }
    partial_deadline_ms_ = 0;
  }
  return true;
}

void FileTail::arm_flush_timer() {
  uint64_t deadline = 0;
  if (joiner_ && !joiner_->empty()) {
    deadline = joiner_deadline_ms_;
  }
  if (partial_deadline_ms_ != 0 && (deadline == 0 || partial_deadline_ms_ < deadline)) {
    deadline = partial_deadline_ms_;
  }
  if (deadline == 0 || closing_) {
    return;
  }
  uint64_t now = uv_now(loop_);
  int rc = uv_timer_start(&flush_timer_, &FileTail::on_flush_timer,
                          deadline > now ? deadline - now : 0, 0);
  ASSAS_CHECK(rc == 0, "uv_timer_start cannot fail on an initialised timer");
}

void FileTail::on_flush_timer(uv_timer_t* timer) noexcept {
  auto* self = static_cast<FileTail*>(timer->data);
  if (self->closing_) {
    return;
  }
  if (self->busy_ || self->has_unpushed_) {
    // Reading: what it reads may complete the line or the event. Look again shortly.
    int rc = uv_timer_start(timer, &FileTail::on_flush_timer, kBusyRetryMs, 0);
    ASSAS_CHECK(rc == 0, "uv_timer_start cannot fail on an initialised timer");
    return;
  }
  if (self->flush_due(false)) {
    self->arm_flush_timer();
  }
}

bool FileTail::give_unfinished_event(UnfinishedEvent& out) {
  if (!joiner_ || joiner_->empty() || busy_ || has_unpushed_ || !at_end_ || carried_) {
    return false;
  }
  JoinedEvent joined = joiner_->pending();
  out.stream = stream_;
  out.text.assign(joined.text);
  out.offset = joined.offset;
  out.lines = joined.lines;
  out.next = agent::SourcePosition{joined.next_offset, token_};
  emitted_offset_ = joined.next_offset;
  joiner_->clear();
  return true;
}

void FileTail::close(std::function<void()> on_closed) {
  if (closing_) {
    return;
  }
  closing_ = true;
  on_closed_ = std::move(on_closed);
  uv_timer_stop(&flush_timer_);
  closer_.close(&flush_timer_);
  maybe_finish_close();
}

void FileTail::maybe_finish_close() {
  if (busy_) {
    return;  // the request in flight completes first; its callback comes back here
  }
  if (fd_ >= 0) {
    busy_ = true;
    step_ = Step::kClose;
    int rc = uv_fs_close(loop_, &req_, fd_, &FileTail::on_fs);
    ASSAS_CHECK(rc == 0, "uv_fs_close only fails on invalid arguments");
    return;
  }
  closer_.when_closed(
      [](void* self) {
        auto* tail = static_cast<FileTail*>(self);
        if (tail->closed_) {
          return;
        }
        tail->closed_ = true;
        auto done = std::move(tail->on_closed_);
        if (done) {
          done();
        }
      },
      this);
}

}  // namespace assas::collectors
