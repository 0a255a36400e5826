#include "base/http_server.h"

#include <array>
#include <vector>

#include <netinet/in.h>

#include "base/http_request.h"
#include "base/log.h"

namespace assas {
namespace {

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

HttpResponse plain(int status, std::string_view body) {
  return HttpResponse{status, "text/plain; charset=utf-8", std::string(body) + "\n"};
}

}  // namespace

std::string http_response_bytes(const HttpResponse& response, bool head_only) {
  std::string out = "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += reason_phrase(response.status);
  out += "\r\nContent-Type: ";
  out += response.content_type;
  out += "\r\nContent-Length: ";
  out += std::to_string(response.body.size());
  out += "\r\nCache-Control: no-store\r\nConnection: close\r\n";
  if (response.status == 405) {
    out += "Allow: GET, HEAD\r\n";
  }
  out += "\r\n";
  if (!head_only) {
    out += response.body;
  }
  return out;
}

// One accepted connection: read a head, answer once, then wait for the client to close (so that
// unread request bytes cannot turn our close into a reset that destroys the response in flight),
// all within the timer. Owned by the server's map; it tells the server when its handles closed.
class HttpServer::Connection {
 public:
  Connection(HttpServer& server, bool counted) : server_(server), counted_(counted) {
    ASSAS_CHECK(uv_tcp_init(server.loop_, &tcp_) == 0, "uv_tcp_init cannot fail");
    ASSAS_CHECK(uv_timer_init(server.loop_, &timer_) == 0, "uv_timer_init cannot fail");
    tcp_.data = this;
    timer_.data = this;
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Accepts the waiting connection; refused ones are closed at once (max_connections).
  void start(uv_stream_t* listener) {
    int rc = uv_accept(listener, reinterpret_cast<uv_stream_t*>(&tcp_));
    if (rc != 0 || !counted_) {
      close();
      return;
    }
    auto timeout = static_cast<uint64_t>(server_.options_.head_timeout.count());
    ASSAS_CHECK(uv_timer_start(&timer_, &Connection::on_timer, timeout, 0) == 0,
                "uv_timer_start cannot fail on an initialised timer");
    rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), &Connection::on_alloc,
                       &Connection::on_read);
    if (rc != 0) {
      close();
    }
  }

  void close() {
    if (state_ == State::kClosing) {
      return;
    }
    state_ = State::kClosing;
    // Room for another client now: uv_close releases the socket at once, and a client that saw
    // it close may connect again before the close callback runs.
    if (counted_) {
      counted_ = false;
      --server_.serving_;
    }
    uv_timer_stop(&timer_);
    closer_.close(&timer_);
    closer_.close(&tcp_);  // cancels a pending write or shutdown; their callbacks see ECANCELED
    closer_.when_closed(
        [](void* owner) {
          auto* self = static_cast<Connection*>(owner);
          self->server_.finished(self);  // frees this
        },
        this);
  }

 private:
  enum class State { kReading, kResponding, kDraining, kClosing };

  static void on_alloc(uv_handle_t* handle, size_t /*suggested*/, uv_buf_t* buf) noexcept {
    auto* self = static_cast<Connection*>(handle->data);
    *buf = uv_buf_init(self->read_buffer_.data(), static_cast<unsigned>(self->read_buffer_.size()));
  }

  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
    auto* self = static_cast<Connection*>(stream->data);
    if (nread == 0 || self->state_ == State::kClosing) {
      return;
    }
    if (nread < 0) {
      // EOF before a whole head, an error, or the client closing after it read the response.
      self->eof_ = true;
      if (nread != UV_EOF || self->state_ != State::kResponding) {
        self->close();
      }
      return;
    }
    if (self->state_ == State::kReading) {
      self->received_.append(buf->base, static_cast<size_t>(nread));
      self->handle_received();
    }
    // Bytes after the head are read and dropped until the client closes.
  }

  static void on_timer(uv_timer_t* timer) noexcept {
    static_cast<Connection*>(timer->data)->close();
  }

  static void on_shutdown(uv_shutdown_t* req, int status) noexcept {
    auto* self = static_cast<Connection*>(req->data);
    if (status == UV_ECANCELED || self->state_ == State::kClosing) {
      return;  // closing already
    }
    if (status < 0 || self->eof_) {
      self->close();
      return;
    }
    self->state_ = State::kDraining;  // the client has the response; wait for its close
  }

  void handle_received() {
    HttpHeadParse parsed = parse_http_request_head(received_);
    switch (parsed.state) {
      case HttpHeadState::kIncomplete:
        return;
      case HttpHeadState::kTooLarge:
        respond(plain(431, "request head larger than 8 KiB"), false);
        return;
      case HttpHeadState::kMalformed:
        respond(plain(400, "malformed request"), false);
        return;
      case HttpHeadState::kComplete:
        break;
    }
    const HttpRequestHead& head = parsed.head;
    if (head.method != "GET" && head.method != "HEAD") {
      respond(plain(405, "only GET and HEAD"), false);
      return;
    }
    respond(server_.handler_(head.method, head.path), head.method == "HEAD");
  }

  void respond(const HttpResponse& response, bool head_only) {
    state_ = State::kResponding;
    received_ = std::string();
    // The client gets as long again to take the response and close.
    auto timeout = static_cast<uint64_t>(server_.options_.head_timeout.count());
    ASSAS_CHECK(uv_timer_start(&timer_, &Connection::on_timer, timeout, 0) == 0,
                "uv_timer_start cannot fail on an initialised timer");
    auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
    write_owned(stream, http_response_bytes(response, head_only), this,
                [](void* owner, int /*rc*/) { static_cast<Connection*>(owner)->close(); });
    if (state_ == State::kClosing) {
      return;  // the write could not even start
    }
    shutdown_.data = this;
    if (uv_shutdown(&shutdown_, stream, &Connection::on_shutdown) != 0) {
      close();
    }
  }

  HttpServer& server_;
  bool counted_;  // holds one of the server's max_connections places until close()
  State state_ = State::kReading;
  bool eof_ = false;
  std::string received_;
  std::array<char, 4096> read_buffer_{};
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  uv_shutdown_t shutdown_{};  // a member: libuv calls back (ECANCELED) before the close callback
  HandleCloser closer_;
};

HttpServer::HttpServer(uv_loop_t* loop, HttpHandler handler, HttpServerOptions options)
    : loop_(loop), handler_(std::move(handler)), options_(options) {
  ASSAS_CHECK(uv_tcp_init(loop_, &tcp_) == 0, "uv_tcp_init cannot fail");
  tcp_.data = this;
}

HttpServer::~HttpServer() {
  ASSAS_CHECK(closed_, "HttpServer destroyed before close() completed");
}

Status HttpServer::listen(const sockaddr* address) {
  int rc = uv_tcp_bind(&tcp_, address, 0);
  if (rc == 0) {
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(&tcp_), 64, &HttpServer::on_accept);
  }
  return uv_status(rc, "listen");
}

int HttpServer::bound_port() const {
  sockaddr_storage addr{};
  int len = sizeof addr;
  if (uv_tcp_getsockname(&tcp_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return 0;
  }
  if (addr.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  }
  if (addr.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  }
  return 0;
}

void HttpServer::on_accept(uv_stream_t* server, int status) noexcept {
  auto* self = static_cast<HttpServer*>(server->data);
  if (status < 0) {
    ASSAS_LOG(kWarn, "accept failed on the HTTP endpoint", log::kv("error", uv_strerror(status)));
    return;
  }
  if (self->closing_) {
    return;
  }
  bool counted = self->serving_ < self->options_.max_connections;
  auto connection = std::make_unique<Connection>(*self, counted);
  Connection* c = connection.get();
  self->connections_.emplace(c, std::move(connection));
  if (counted) {
    ++self->serving_;
  }
  c->start(server);  // may close it at once; it leaves the map only from its close callback
}

void HttpServer::finished(Connection* connection) {
  connections_.erase(connection);
  maybe_closed();
}

void HttpServer::close(std::function<void()> on_closed) {
  if (closing_) {
    return;
  }
  closing_ = true;
  on_closed_ = std::move(on_closed);
  closer_.close(&tcp_);
  closer_.when_closed(
      [](void* owner) {
        auto* self = static_cast<HttpServer*>(owner);
        self->listener_closed_ = true;
        self->maybe_closed();
      },
      this);
  std::vector<Connection*> open;
  open.reserve(connections_.size());
  for (const auto& entry : connections_) {
    open.push_back(entry.first);
  }
  for (Connection* c : open) {
    c->close();
  }
}

void HttpServer::maybe_closed() {
  if (!closing_ || !listener_closed_ || !connections_.empty() || closed_) {
    return;
  }
  closed_ = true;
  if (on_closed_) {
    auto done = std::move(on_closed_);
    done();
  }
}

}  // namespace assas
