#pragma once

// A TCP relay on 127.0.0.1 that a test controls, for the network faults a process kill cannot
// make: a link that goes silent without closing anything (freeze, as when a route, a firewall or
// a NAT box in the middle dies), that heals (thaw), that breaks (cut), or that is slow (a rate
// limit, as a receiver that reads slowly looks to its sender). It listens on 127.0.0.1 port 0
// and relays every accepted connection to 127.0.0.1:<target_port>, on its own thread with poll().
//
// Contract: every method may be called from any thread. freeze(), thaw(), cut() and
// set_rate_limit() have taken effect when they return (the relay thread applied them; bounded
// by 5 s). Every socket is non-blocking and every poll() has a timeout, so the thread never
// waits without a bound. An error on one connection closes that connection only; no exception
// leaves the thread (one that would is recorded and the relay stops: see error()). The
// destructor stops the thread and closes every socket.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace assas::test {

class TcpProxy {
 public:
  // Throws std::runtime_error if it cannot listen.
  explicit TcpProxy(int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  // Stops relaying bytes in both directions; every connection stays open, and new connections
  // are still accepted (the client's connect succeeds) but not relayed: a black hole.
  void freeze();
  // Relays again: what was held, and the connections accepted while frozen (which are connected
  // to the target now).
  void thaw();
  // Closes every connection at both ends (the link broke); later connections are relayed.
  void cut();
  // At most bytes_per_second from the clients to the target, all connections together (a slow
  // receiver); 0 lifts the limit.
  void set_rate_limit(uint64_t bytes_per_second);

  uint64_t connections_accepted() const { return accepted_.load(); }
  uint64_t bytes_to_target() const { return to_target_.load(); }
  uint64_t bytes_to_client() const { return to_client_.load(); }
  // Why the relay thread stopped early, or "".
  std::string error() const;

 private:
  struct Commands {
    bool frozen = false;
    uint64_t rate = 0;
    uint64_t cuts = 0;
    bool stopping = false;
  };
  // Changes the commands, wakes the thread and waits until it applied them.
  void command(const std::function<void(Commands&)>& change);
  void run() noexcept;

  int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  int wake_read_ = -1;
  int wake_write_ = -1;

  mutable std::mutex mutex_;
  std::condition_variable applied_cv_;
  Commands commands_;
  uint64_t requested_ = 0;  // commands_ changes so far
  uint64_t applied_ = 0;    // of them, how many the thread has acted on
  bool done_ = false;       // the thread has stopped
  std::string error_;

  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> to_target_{0};
  std::atomic<uint64_t> to_client_{0};
  std::thread thread_;
};

}  // namespace assas::test
