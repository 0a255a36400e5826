#include "base/uv_util.h"

#include <csignal>
#include <memory>
#include <string>

#include <pthread.h>

namespace assas {

namespace {

struct OwnedWrite {
  uv_write_t req{};
  std::string bytes;
  void* owner = nullptr;
  WriteFailed on_failed = nullptr;
};

void on_owned_written(uv_write_t* req, int status) noexcept {
  std::unique_ptr<OwnedWrite> w(reinterpret_cast<OwnedWrite*>(req));
  if (status < 0 && status != UV_ECANCELED) {
    w->on_failed(w->owner, status);
  }
}

}  // namespace

void write_owned(uv_stream_t* stream, std::string bytes, void* owner, WriteFailed on_failed) {
  auto w = std::make_unique<OwnedWrite>();
  w->bytes = std::move(bytes);
  w->owner = owner;
  w->on_failed = on_failed;
  uv_buf_t buf = uv_buf_init(w->bytes.data(), static_cast<unsigned>(w->bytes.size()));
  int rc = uv_write(&w->req, stream, &buf, 1, &on_owned_written);
  if (rc != 0) {
    on_failed(owner, rc);  // no callback will come; w is freed here
    return;
  }
  (void)w.release();  // freed by on_owned_written
}

Status uv_status(int rc, std::string_view context) {
  if (rc >= 0) {
    return Status::ok();
  }
  std::string message(context);
  message += ": ";
  message += uv_strerror(rc);
  StatusCode code = StatusCode::kIoError;
  switch (rc) {
    case UV_ECONNREFUSED:
    case UV_ECONNRESET:
    case UV_ETIMEDOUT:
    case UV_EHOSTUNREACH:
    case UV_ENETUNREACH:
    case UV_EPIPE:
    case UV_ECONNABORTED:
    case UV_EOF:
      code = StatusCode::kUnavailable;
      break;
    case UV_ENOENT:
      code = StatusCode::kNotFound;
      break;
    case UV_EACCES:
    case UV_EPERM:
      code = StatusCode::kPermissionDenied;
      break;
    case UV_ENOSPC:
    case UV_EMFILE:
    case UV_ENFILE:
    case UV_ENOMEM:
      code = StatusCode::kResourceExhausted;
      break;
    case UV_EINVAL:
    case UV_EADDRINUSE:
    case UV_EADDRNOTAVAIL:
      code = StatusCode::kInvalidArgument;
      break;
    default:
      break;
  }
  return {code, std::move(message)};
}

void ignore_sigpipe() {
  struct sigaction action {};
  action.sa_handler = SIG_IGN;
  sigemptyset(&action.sa_mask);
  sigaction(SIGPIPE, &action, nullptr);
}

namespace {
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);  // a reload asked for during the start must not kill the process
  return set;
}
}  // namespace

void hold_stop_signals() {
  sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void release_stop_signals() {
  sigset_t set = stop_signals();
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

void HandleCloser::close(uv_handle_t* handle) {
  if (uv_is_closing(handle) != 0) {
    return;
  }
  handle->data = this;
  ++pending_;
  uv_close(handle, &HandleCloser::on_close);
}

void HandleCloser::when_closed(Done done, void* owner) {
  done_ = done;
  owner_ = owner;
  maybe_done();
}

void HandleCloser::on_close(uv_handle_t* handle) noexcept {
  auto* self = static_cast<HandleCloser*>(handle->data);
  --self->pending_;
  self->maybe_done();
}

void HandleCloser::maybe_done() {
  if (pending_ == 0 && done_ != nullptr) {
    Done done = done_;
    done_ = nullptr;
    done(owner_);  // may free this closer's owner, and so this closer: touch nothing after
  }
}

}  // namespace assas
