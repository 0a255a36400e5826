#pragma once

// One UDP syslog socket (RFC 5426: a datagram is one message). UDP cannot wait, so while the
// pipeline is paused datagrams wait in a bounded queue, and are dropped and counted once it is
// full; datagrams from senders outside `allow` or over their rate limit are dropped and counted
// too, and so are the kernel's own drops when the socket's receive buffer was full (read from
// /proc/net/udp; receive_buffer sizes it).
//
// Loop thread only; close() before destroying.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include <uv.h>

#include "base/status.h"
#include "base/uv_util.h"
#include "collectors/syslog/syslog_intake.h"

namespace assas::collectors {

class UdpListener {
 public:
  UdpListener(uv_loop_t* loop, SyslogIntake& intake, const SyslogCollectorConfig& config,
              const transport::Endpoint& address, uint64_t receive_buffer_bytes);
  ~UdpListener();
  UdpListener(const UdpListener&) = delete;
  UdpListener& operator=(const UdpListener&) = delete;

  // Binds and starts receiving; the error names the address.
  Status start();
  int bound_port() const;
  // Datagrams the kernel dropped on this socket (its receive buffer was full); 0 if unknown.
  uint64_t kernel_drops() const;
  // Offers the queued datagrams to the pipeline again (after a resume).
  void drain();
  void close(std::function<void()> on_closed);

 private:
  struct Queued {
    std::string bytes;
    SyslogSender sender;
    bool truncated = false;
    uint64_t original_size = 0;
  };
  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) noexcept;
  static void on_receive(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf, const sockaddr* addr,
                         unsigned flags) noexcept;
  void receive(std::string_view datagram, const sockaddr* from, bool partial);
  void set_receive_buffer();

  SyslogIntake& intake_;
  transport::Endpoint address_;
  agent::StreamPtr stream_;
  uint64_t receive_buffer_bytes_;
  uint64_t max_message_bytes_;
  uint64_t queue_limit_;
  uint64_t queued_bytes_ = 0;
  std::deque<Queued> queue_;
  std::string buffer_;  // one datagram at a time: libuv hands it over before the next read
  uv_udp_t udp_{};
  bool closed_ = false;
  std::function<void()> on_closed_;
  HandleCloser closer_;
};

}  // namespace assas::collectors
