#pragma once

// A raw HTTP/1.1 client over a blocking TCP socket on 127.0.0.1, for the tests of the agent's
// /metrics and /health endpoint: it sends exactly the bytes a test gives it (hostile ones too)
// and reads until the server closes. Every read is bounded by a timeout.

#include <chrono>
#include <string>

namespace assas::test {

struct HttpReply {
  int status = 0;  // 0: no status line came back
  std::string head;
  std::string body;
};

// Sends request and reads the reply until the server closes (or timeout passes).
HttpReply http_exchange(int port, const std::string& request,
                        std::chrono::milliseconds timeout = std::chrono::seconds(5));
// "GET <path> HTTP/1.1" with a Host header.
HttpReply http_get(int port, const std::string& path,
                   std::chrono::milliseconds timeout = std::chrono::seconds(5));

// A connected socket (blocking), or -1.
int connect_local(int port);
// True if the server closed fd (EOF or reset) within timeout, reading and dropping what came.
bool wait_closed(int fd, std::chrono::milliseconds timeout);

}  // namespace assas::test
