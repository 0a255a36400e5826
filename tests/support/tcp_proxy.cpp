#include "tests/support/tcp_proxy.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <system_error>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace assas::test {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Per connection and direction, the relay reads no more while this much waits to be written:
// a slow side slows the other one down instead of growing the relay's memory.
constexpr size_t kMaxHeld = 256 << 10;
constexpr size_t kChunk = 64 << 10;

std::runtime_error errno_error(const std::string& what, int error) {
  return std::runtime_error("TcpProxy: " + what + ": " +
                            std::error_code(error, std::generic_category()).message());
}

void close_fd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

sockaddr_in loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  return address;
}

bool would_block(int error) {
  return error == EAGAIN || error == EWOULDBLOCK || error == EINTR;
}

// One relayed connection: client <-> relay <-> target.
struct Link {
  int client = -1;
  int target = -1;  // -1 until a connect starts (a link accepted while frozen waits for thaw)
  bool connecting = false;
  std::string to_target;  // read from the client, not yet written to the target
  std::string to_client;
  bool client_eof = false;  // the client shut its side: passed on once to_target is written
  bool target_eof = false;
  bool target_shut = false;
  bool client_shut = false;
  bool dead = false;

  void close() {
    close_fd(client);
    close_fd(target);
  }
};

void start_connect(Link& link, int port) {
  link.target = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (link.target < 0) {
    link.dead = true;
    return;
  }
  sockaddr_in address = loopback(port);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  int rc = ::connect(link.target, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  if (rc == 0) {
    link.connecting = false;
  } else if (errno == EINPROGRESS) {
    link.connecting = true;
  } else {
    link.dead = true;  // the target is down: the client sees its connection closed
  }
}

// Reads at most limit bytes from fd onto held; false when the connection failed.
bool read_some(int fd, std::string& held, size_t limit, bool& eof, uint64_t& count) {
  char buffer[kChunk];
  ssize_t n = ::recv(fd, buffer, std::min(limit, sizeof buffer), 0);
  if (n > 0) {
    held.append(buffer, static_cast<size_t>(n));
    count += static_cast<uint64_t>(n);
    return true;
  }
  if (n == 0) {
    eof = true;
    return true;
  }
  return would_block(errno);
}

// Writes what it can of held to fd; false when the connection failed.
bool write_some(int fd, std::string& held, std::atomic<uint64_t>& count) {
  ssize_t n = ::send(fd, held.data(), held.size(), MSG_NOSIGNAL);
  if (n >= 0) {
    held.erase(0, static_cast<size_t>(n));
    count += static_cast<uint64_t>(n);
    return true;
  }
  return would_block(errno);
}

}  // namespace

TcpProxy::TcpProxy(int target_port) : target_port_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    throw errno_error("socket", errno);
  }
  sockaddr_in address = loopback(0);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  if (::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listen_fd_, 128) != 0) {
    int error = errno;
    close_fd(listen_fd_);
    throw errno_error("bind/listen 127.0.0.1:0", error);
  }
  socklen_t length = sizeof address;
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  if (::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    int error = errno;
    close_fd(listen_fd_);
    throw errno_error("getsockname", error);
  }
  port_ = ntohs(address.sin_port);
  int wake[2];
  if (::pipe2(wake, O_NONBLOCK | O_CLOEXEC) != 0) {
    int error = errno;
    close_fd(listen_fd_);
    throw errno_error("pipe2", error);
  }
  wake_read_ = wake[0];
  wake_write_ = wake[1];
  thread_ = std::thread([this] { run(); });
}

TcpProxy::~TcpProxy() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    commands_.stopping = true;
  }
  char byte = 0;
  (void)!::write(wake_write_, &byte, 1);  // full pipe: the thread wakes anyway
  thread_.join();  // bounded: the thread looks at the commands at least every 50 ms
  close_fd(listen_fd_);
  close_fd(wake_read_);
  close_fd(wake_write_);
}

void TcpProxy::command(const std::function<void(Commands&)>& change) {
  std::unique_lock<std::mutex> lock(mutex_);
  change(commands_);
  uint64_t mine = ++requested_;
  lock.unlock();
  char byte = 0;
  (void)!::write(wake_write_, &byte, 1);
  lock.lock();
  if (!applied_cv_.wait_for(lock, 5s, [&] { return applied_ >= mine || done_; })) {
    throw std::runtime_error("TcpProxy: the relay thread did not apply a command within 5 s");
  }
  if (done_ && !error_.empty()) {
    throw std::runtime_error("TcpProxy: the relay thread stopped: " + error_);
  }
}

void TcpProxy::freeze() {
  command([](Commands& c) { c.frozen = true; });
}

void TcpProxy::thaw() {
  command([](Commands& c) { c.frozen = false; });
}

void TcpProxy::cut() {
  command([](Commands& c) { ++c.cuts; });
}

void TcpProxy::set_rate_limit(uint64_t bytes_per_second) {
  command([bytes_per_second](Commands& c) { c.rate = bytes_per_second; });
}

std::string TcpProxy::error() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return error_;
}

void TcpProxy::run() noexcept {
  std::vector<Link> links;
  try {
    uint64_t cuts_done = 0;
    double tokens = 0;  // bytes the clients may still send now, under a rate limit
    Clock::time_point refilled = Clock::now();
    uint64_t counted = 0;
    for (;;) {
      Commands now;
      uint64_t seen = 0;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        now = commands_;
        seen = requested_;
      }
      if (now.stopping) {
        break;
      }
      if (now.cuts != cuts_done) {
        for (Link& link : links) {
          link.close();
        }
        links.clear();
        cuts_done = now.cuts;
      }
      if (!now.frozen) {
        for (Link& link : links) {
          if (link.target < 0 && !link.dead) {
            start_connect(link, target_port_);
          }
        }
      }
      {
        // Applied: from here until the next look at the commands, the relay does what they say.
        std::lock_guard<std::mutex> lock(mutex_);
        applied_ = seen;
      }
      applied_cv_.notify_all();

      Clock::time_point t = Clock::now();
      if (now.rate == 0) {
        tokens = 1e15;  // no limit
      } else {
        double burst = std::max<double>(static_cast<double>(now.rate) / 20, 4096);
        tokens = std::min(burst, tokens + static_cast<double>(now.rate) *
                                              std::chrono::duration<double>(t - refilled).count());
      }
      refilled = t;

      std::vector<pollfd> fds{{wake_read_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
      struct Polled {
        size_t link;
        bool client;
      };
      std::vector<Polled> polled;
      if (!now.frozen) {
        for (size_t i = 0; i < links.size(); ++i) {
          Link& link = links[i];
          short client_events = 0;
          short target_events = 0;
          if (!link.client_eof && link.to_target.size() < kMaxHeld && tokens >= 1) {
            client_events |= POLLIN;
          }
          if (!link.to_client.empty()) {
            client_events |= POLLOUT;
          }
          if (link.connecting) {
            target_events |= POLLOUT;
          } else if (link.target >= 0) {
            if (!link.target_eof && link.to_client.size() < kMaxHeld) {
              target_events |= POLLIN;
            }
            if (!link.to_target.empty()) {
              target_events |= POLLOUT;
            }
          }
          // Only with something asked: a closed peer reports POLLHUP on every call otherwise.
          if (client_events != 0) {
            fds.push_back({link.client, client_events, 0});
            polled.push_back({i, true});
          }
          if (target_events != 0) {
            fds.push_back({link.target, target_events, 0});
            polled.push_back({i, false});
          }
        }
      }
      int timeout_ms = now.rate > 0 && tokens < 1 ? 5 : 50;
      if (::poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) {
        throw errno_error("poll", errno);
      }
      if ((fds[0].revents & POLLIN) != 0) {
        char drain[64];
        while (::read(wake_read_, drain, sizeof drain) > 0) {
        }
      }
      if ((fds[1].revents & POLLIN) != 0) {
        for (;;) {
          int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) {
            break;  // EAGAIN: all taken; anything else: the client is gone already
          }
          ++accepted_;
          Link link;
          link.client = fd;
          if (!now.frozen) {
            start_connect(link, target_port_);
          }
          links.push_back(std::move(link));
        }
      }
      for (size_t k = 0; k < polled.size(); ++k) {
        short revents = fds[k + 2].revents;
        Link& link = links[polled[k].link];
        if (revents == 0 || link.dead) {
          continue;
        }
        if (polled[k].client) {
          if ((fds[k + 2].events & POLLIN) != 0 && (revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            // Not past the rate limit: other links may have used the tokens up meanwhile (and a
            // recv of 0 bytes would look like the end of the stream).
            size_t limit = std::min(kMaxHeld - link.to_target.size(),
                                    static_cast<size_t>(std::max(tokens, 0.0)));
            if (limit > 0) {
              uint64_t before = counted;
              link.dead |= !read_some(link.client, link.to_target, limit, link.client_eof, counted);
              tokens -= static_cast<double>(counted - before);
            }
          }
          if ((revents & POLLOUT) != 0 && !link.dead) {
            link.dead |= !write_some(link.client, link.to_client, to_client_);
          }
        } else if (link.connecting) {
          int error = 0;
          socklen_t length = sizeof error;
          if (::getsockopt(link.target, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
            link.dead = true;
          } else {
            link.connecting = false;
          }
        } else {
          if ((fds[k + 2].events & POLLIN) != 0 && (revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            uint64_t ignored = 0;
            link.dead |= !read_some(link.target, link.to_client, kMaxHeld - link.to_client.size(),
                                    link.target_eof, ignored);
          }
          if ((revents & POLLOUT) != 0 && !link.dead) {
            link.dead |= !write_some(link.target, link.to_target, to_target_);
          }
        }
      }
      // An end that was shut is shut at the other side once what it sent has been passed on.
      for (Link& link : links) {
        if (link.dead) {
          continue;
        }
        if (link.client_eof && link.to_target.empty() && link.target >= 0 && !link.connecting &&
            !link.target_shut) {
          ::shutdown(link.target, SHUT_WR);
          link.target_shut = true;
        }
        if (link.target_eof && link.to_client.empty() && !link.client_shut) {
          ::shutdown(link.client, SHUT_WR);
          link.client_shut = true;
        }
        if ((link.client_shut && link.target_shut) || (link.client_eof && link.target < 0)) {
          link.dead = true;
        }
      }
      for (Link& link : links) {
        if (link.dead) {
          link.close();
        }
      }
      links.erase(std::remove_if(links.begin(), links.end(), [](const Link& l) { return l.dead; }),
                  links.end());
    }
  } catch (const std::exception& e) {
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = e.what();
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = "unknown exception";
  }
  for (Link& link : links) {
    link.close();
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = true;
  }
  applied_cv_.notify_all();
}

}  // namespace assas::test
