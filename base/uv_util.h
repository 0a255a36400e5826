#pragma once

// libuv helpers: error conversion at the boundary, and the one way we close handles.

#include <string>
#include <string_view>

#include <uv.h>

#include "base/status.h"

namespace assas {

// libuv's negative error code → Status, e.g. "connect 127.0.0.1:6514: connection refused".
Status uv_status(int rc, std::string_view context);

// A peer that closes while we write must give us EPIPE, not kill the process with SIGPIPE. Called
// once by each program's main (and by tests that open sockets) before the loop runs.
void ignore_sigpipe();

// SIGTERM, SIGINT and SIGHUP that arrive while a program starts (before its libuv signal handlers
// exist) must not kill it mid-start: hold them from the first line of main, and release them once
// the handlers are installed; one held meanwhile is then delivered to the handler.
void hold_stop_signals();
void release_stop_signals();

// Writes bytes to stream; the request owns them until libuv is done with them. A write that fails
// (also one that cannot start: then before this returns) calls on_failed(owner, rc), except with
// UV_ECANCELED, which only says the handle is closing. owner must outlive the stream's close.
using WriteFailed = void (*)(void* owner, int rc);
void write_owned(uv_stream_t* stream, std::string bytes, void* owner, WriteFailed on_failed);

// Counts outstanding uv_close callbacks of the handles an object owns and calls the owner back
// once all have closed. The owner frees itself (or is freed) only from that callback.
//   closer_.close(&timer_); closer_.close(&tcp_);  closer_.when_closed([this] { ... });
// Loop thread only.
class HandleCloser {
 public:
  using Done = void (*)(void* owner);
  HandleCloser() = default;
  HandleCloser(const HandleCloser&) = delete;
  HandleCloser& operator=(const HandleCloser&) = delete;

  // Closes handle unless it is already closing; handle->data is overwritten with this closer, so
  // call it only once the owner no longer needs callbacks from the handle.
  void close(uv_handle_t* handle);
  template <typename H>
  void close(H* handle) {
    close(reinterpret_cast<uv_handle_t*>(handle));
  }
  // done(owner) runs once every handle passed to close() has closed (immediately, on the next
  // close callback, or right away if none is pending).
  void when_closed(Done done, void* owner);
  bool idle() const { return pending_ == 0; }

 private:
  static void on_close(uv_handle_t* handle) noexcept;
  void maybe_done();

  int pending_ = 0;
  Done done_ = nullptr;
  void* owner_ = nullptr;
};

}  // namespace assas
