#include "collectors/file/file_tail.h"

#include <ctime>

#include <fcntl.h>

#include "base/log.h"

namespace assas::collectors {
namespace {

int64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

FileTail::FileTail(uv_loop_t* loop, Host& host, agent::StreamPtr stream, uint64_t start_offset,
                   size_t read_buffer_bytes, size_t max_line_bytes, bool strip_cr)
    : loop_(loop), host_(host), stream_(std::move(stream)), splitter_(max_line_bytes, strip_cr) {
  buffer_.resize(read_buffer_bytes);
  splitter_.reset(start_offset);
  req_.data = this;
}

FileTail::~FileTail() {
  ASSAS_CHECK(closed_ || step_ == Step::kNone, "FileTail destroyed open");
}

void FileTail::start() {
  busy_ = true;
  step_ = Step::kOpen;
  int rc =
      uv_fs_open(loop_, &req_, stream_->source.c_str(), O_RDONLY | O_CLOEXEC, 0, &FileTail::on_fs);
  if (rc != 0) {
    busy_ = false;
    ASSAS_LOG(kWarn, "cannot open file", log::kv("path", stream_->source),
              log::kv("error", uv_strerror(rc)));
  }
}

void FileTail::on_fs(uv_fs_t* req) noexcept {
  auto* self = static_cast<FileTail*>(req->data);
  ssize_t result = req->result;
  uint64_t size = req->fs_type == UV_FS_FSTAT ? req->statbuf.st_size : 0;
  uv_fs_req_cleanup(req);
  self->busy_ = false;
  self->on_done(self->step_, result, size);
}

void FileTail::on_done(Step step, ssize_t result, uint64_t size) {
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
      if (result < 0) {
        ASSAS_LOG(kWarn, "cannot open file; it will be tried again at the next scan",
                  log::kv("path", stream_->source),
                  log::kv("error", uv_strerror(static_cast<int>(result))));
        at_end_ = true;
        return;
      }
      fd_ = static_cast<uv_file>(result);
      if (uv_fs_event_init(loop_, &watch_) == 0) {
        watch_.data = this;
        watching_ = true;
        if (uv_fs_event_start(&watch_, &FileTail::on_change, stream_->source.c_str(), 0) != 0) {
          // No inotify (or out of watches): the collector's periodic poke still finds appends.
          closer_.close(&watch_);
          watching_ = false;
        }
      }
      stat();
      return;
    case Step::kStat:
      if (result < 0) {
        at_end_ = true;
        return;
      }
      if (size < splitter_.offset()) {
        ASSAS_LOG(kWarn, "file shrank below the read position; reading it again from the start",
                  log::kv("path", stream_->source), log::kv("size", size),
                  log::kv("position", splitter_.offset()));
        splitter_.reset(0);
      }
      if (size > splitter_.offset()) {
        read();
      } else {
        at_end_ = true;
      }
      break;
    case Step::kRead:
      if (result < 0) {
        ASSAS_LOG(kWarn, "cannot read file", log::kv("path", stream_->source),
                  log::kv("error", uv_strerror(static_cast<int>(result))));
        at_end_ = true;
        return;
      }
      if (result == 0) {
        at_end_ = true;
        break;
      }
      read_time_ns_ = realtime_ns();
      splitter_.feed(std::string_view(buffer_.data(), static_cast<size_t>(result)));
      has_unpushed_ = true;
      if (drain()) {
        read();  // keep reading until the end of the file
      }
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

void FileTail::on_change(uv_fs_event_t* handle, const char* /*name*/, int /*events*/,
                         int /*status*/) noexcept {
  static_cast<FileTail*>(handle->data)->poke();
}

void FileTail::poke() {
  if (closing_ || fd_ < 0) {
    return;
  }
  if (busy_) {
    wanted_ = true;
    return;
  }
  if (has_unpushed_ && !drain()) {
    return;  // still paused; resume() pokes again
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
    if (host_.paused()) {
      return false;
    }
    agent::Event event;
    event.time_ns = read_time_ns_;
    event.offset = line.offset;
    event.message = line.text;
    event.next.offset = line.next_offset;
    if (!host_.sink().push(stream_, event)) {
      return false;
    }
    splitter_.consume();
  }
  has_unpushed_ = false;
  return true;
}

void FileTail::close(std::function<void()> on_closed) {
  if (closing_) {
    return;
  }
  closing_ = true;
  on_closed_ = std::move(on_closed);
  if (watching_) {
    uv_fs_event_stop(&watch_);
    closer_.close(&watch_);
    watching_ = false;
  }
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
