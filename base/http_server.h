#pragma once

// A deliberately small HTTP/1.1 server on the loop, for the agent's /metrics and /health: one
// listening address, one request per connection, then the response with "Connection: close".
// Whoever can reach the address may connect, so every resource a client can hold is bounded:
//   - at most max_connections open connections; one more is accepted and closed at once;
//   - a request head of at most 8 KiB (431 otherwise), parsed by parse_http_request_head (400 for
//     anything malformed);
//   - head_timeout to send a complete head, then the same again to take the response;
//   - responses are queued with uv_write (never a blocking write), and the connection closes once
//     the client has the response and closes its end, or at that timeout.
// Only GET and HEAD reach the handler (405 otherwise); the handler answers every path, 404
// included.
//
// Contract: loop thread only; loop outlives the server. close() before destroying it; the handler
// is called only on the loop, never after close().

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include <sys/socket.h>

#include <uv.h>

#include "base/status.h"
#include "base/uv_util.h"

namespace assas {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// method is "GET" or "HEAD" (a HEAD response's body is dropped by the server); path has no query.
using HttpHandler = std::function<HttpResponse(std::string_view method, std::string_view path)>;

struct HttpServerOptions {
  size_t max_connections = 16;
  std::chrono::milliseconds head_timeout{5000};
};

// The bytes of a whole response; exposed for tests. head_only: HEAD, no body.
std::string http_response_bytes(const HttpResponse& response, bool head_only);

class HttpServer {
 public:
  HttpServer(uv_loop_t* loop, HttpHandler handler, HttpServerOptions options = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; an error (EADDRINUSE, EACCES, ...) says so, and close() is still needed.
  Status listen(const sockaddr* address);
  int bound_port() const;
  size_t open_connections() const { return connections_.size(); }
  // Stops listening and closes every connection; on_closed runs once, after every handle closed.
  void close(std::function<void()> on_closed);

 private:
  class Connection;
  static void on_accept(uv_stream_t* server, int status) noexcept;
  void finished(Connection* connection);
  void maybe_closed();

  uv_loop_t* loop_;
  HttpHandler handler_;
  HttpServerOptions options_;
  uv_tcp_t tcp_{};
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_;
  size_t serving_ = 0;  // connections counted against max_connections
  bool closing_ = false;
  bool listener_closed_ = false;
  bool closed_ = false;
  std::function<void()> on_closed_;
  HandleCloser closer_;
};

}  // namespace assas
