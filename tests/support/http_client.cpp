#include "tests/support/http_client.h"

#include <cerrno>
#include <cstdlib>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <poll.h>
#include <unistd.h>

namespace assas::test {

int connect_local(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

namespace {

// Reads until EOF or reset (true), or until timeout (false); appends what came to out.
bool read_to_close(int fd, std::chrono::milliseconds timeout, std::string* out) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[16384];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return false;
    }
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready <= 0) {
      return false;
    }
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return true;
    }
    if (out != nullptr) {
      out->append(buffer, static_cast<size_t>(n));
    }
  }
}

}  // namespace

bool wait_closed(int fd, std::chrono::milliseconds timeout) {
  return read_to_close(fd, timeout, nullptr);
}

HttpReply http_exchange(int port, const std::string& request, std::chrono::milliseconds timeout) {
  HttpReply reply;
  int fd = connect_local(port);
  if (fd < 0) {
    return reply;
  }
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      break;  // the server may refuse early (431); read what it said
    }
    sent += static_cast<size_t>(n);
  }
  std::string all;
  read_to_close(fd, timeout, &all);
  ::close(fd);
  size_t end = all.find("\r\n\r\n");
  if (all.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) {
    return reply;
  }
  reply.status = std::atoi(all.c_str() + 9);
  reply.head = all.substr(0, end + 2);
  reply.body = all.substr(end + 4);
  return reply;
}

HttpReply http_get(int port, const std::string& path, std::chrono::milliseconds timeout) {
  return http_exchange(port, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", timeout);
}

}  // namespace assas::test
