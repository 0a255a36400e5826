#include "base/http_server.h"

#include <functional>
#include <thread>
#include <vector>

#include <netinet/in.h>

#include <catch2/catch.hpp>
#include <unistd.h>

#include "tests/support/http_client.h"

namespace assas {
namespace {

using namespace std::chrono_literals;

HttpResponse answer(std::string_view /*method*/, std::string_view path) {
  if (path == "/metrics") {
    return HttpResponse{200, "text/plain; version=0.0.4", "assas_up 1\n"};
  }
  return HttpResponse{404, "text/plain", "not found\n"};
}

// Runs the server on the loop (this thread) while client(port) runs on a thread of its own with
// blocking sockets; once the client is done the server closes and the loop must end clean.
void serve_while(HttpServerOptions options, const std::function<void(int port)>& client) {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  auto* server = new HttpServer(&loop, &answer, options);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(server->listen(reinterpret_cast<const sockaddr*>(&address)).is_ok());
  int port = server->bound_port();
  REQUIRE(port > 0);
  uv_async_t done{};
  done.data = server;
  REQUIRE(uv_async_init(&loop, &done, [](uv_async_t* async) noexcept {
            auto* s = static_cast<HttpServer*>(async->data);
            s->close([s] { delete s; });
            uv_close(reinterpret_cast<uv_handle_t*>(async), nullptr);
          }) == 0);
  std::thread thread([&] {
    client(port);
    uv_async_send(&done);
  });
  REQUIRE(uv_run(&loop, UV_RUN_DEFAULT) == 0);
  thread.join();
  REQUIRE(uv_loop_close(&loop) == 0);
}

}  // namespace

TEST_CASE("GET and HEAD reach the handler and other methods get 405", "[http]") {
  test::HttpReply get;
  test::HttpReply head;
  test::HttpReply post;
  test::HttpReply missing;
  serve_while({}, [&](int port) {
    get = test::http_get(port, "/metrics?x=1");
    head = test::http_exchange(port, "HEAD /metrics HTTP/1.1\r\n\r\n");
    post = test::http_exchange(port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    missing = test::http_get(port, "/nope");
  });
  CHECK(get.status == 200);
  CHECK(get.body == "assas_up 1\n");
  CHECK(get.head.find("Content-Type: text/plain; version=0.0.4\r\n") != std::string::npos);
  CHECK(get.head.find("Connection: close\r\n") != std::string::npos);
  CHECK(head.status == 200);
  CHECK(head.head.find("Content-Length: 11\r\n") != std::string::npos);
  CHECK(head.body.empty());
  CHECK(post.status == 405);
  CHECK(post.head.find("Allow: GET, HEAD\r\n") != std::string::npos);
  CHECK(missing.status == 404);
}

TEST_CASE("oversized and malformed heads get 431 and 400 and the connection closes", "[http]") {
  test::HttpReply big;
  test::HttpReply garbage;
  test::HttpReply split;
  serve_while({}, [&](int port) {
    big = test::http_exchange(
        port, "GET /metrics HTTP/1.1\r\nX-Pad: " + std::string(9 << 10, 'a') + "\r\n\r\n");
    garbage = test::http_exchange(port, std::string("\x16\x03\x01\x00\x05hello", 10));
    split = test::http_exchange(port, "GET /metrics HTTP/1.1\nHost: x\n\n");
  });
  CHECK(big.status == 431);
  CHECK(garbage.status == 400);
  CHECK(split.status == 200);
}

TEST_CASE("a client that sends no whole head is closed after the head timeout", "[http]") {
  bool closed_early = true;
  bool closed = false;
  std::chrono::steady_clock::duration took{};
  serve_while({16, 300ms}, [&](int port) {
    int fd = test::connect_local(port);
    (void)!::write(fd, "GET /metr", 9);
    auto start = std::chrono::steady_clock::now();
    closed_early = test::wait_closed(fd, 100ms);
    closed = test::wait_closed(fd, 3s);
    took = std::chrono::steady_clock::now() - start;
    ::close(fd);
  });
  CHECK_FALSE(closed_early);
  CHECK(closed);
  CHECK(took < 2s);
}

TEST_CASE("connections over the limit are closed at once and the server still answers", "[http]") {
  std::vector<bool> refused;
  bool first_open = false;
  test::HttpReply after;
  serve_while({2, 500ms}, [&](int port) {
    std::vector<int> fds;
    fds.reserve(5);
    for (int i = 0; i < 5; ++i) {
      fds.push_back(test::connect_local(port));
    }
    first_open = !test::wait_closed(fds[0], 100ms);
    for (size_t i = 2; i < fds.size(); ++i) {
      refused.push_back(test::wait_closed(fds[i], 1s));
    }
    // The two idle ones time out; then there is room again.
    test::wait_closed(fds[0], 3s);
    test::wait_closed(fds[1], 3s);
    after = test::http_get(port, "/metrics");
    for (int fd : fds) {
      ::close(fd);
    }
  });
  CHECK(first_open);
  CHECK(refused == std::vector<bool>{true, true, true});
  CHECK(after.status == 200);
}

}  // namespace assas
