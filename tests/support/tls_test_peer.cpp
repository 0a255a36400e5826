#include "tests/support/tls_test_peer.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <unistd.h>

namespace assas::test {
namespace {

using Clock = std::chrono::steady_clock;

// strerror is not thread-safe, and the server side runs on its own thread.
std::string errno_text(int error) {
  return std::generic_category().message(error);
}

std::string openssl_errors() {
  std::string out;
  for (unsigned long err = ERR_get_error(); err != 0; err = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(err, text, sizeof text);
    out += (out.empty() ? "" : "; ") + std::string(text);
  }
  return out.empty() ? "no OpenSSL error queued" : out;
}

SSL_CTX* make_context(const TlsFiles& files, bool server) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (ctx == nullptr) {
    throw std::runtime_error("SSL_CTX_new: " + openssl_errors());
  }
  bool ok = SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) == 1 &&
            SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) == 1 &&
            SSL_CTX_load_verify_locations(ctx, files.ca.c_str(), nullptr) == 1 &&
            SSL_CTX_use_certificate_chain_file(ctx, files.cert.c_str()) == 1 &&
            SSL_CTX_use_PrivateKey_file(ctx, files.key.c_str(), SSL_FILETYPE_PEM) == 1 &&
            SSL_CTX_check_private_key(ctx) == 1;
  if (!ok) {
    std::string why = openssl_errors();
    SSL_CTX_free(ctx);
    throw std::runtime_error("TLS test context from " + files.cert + ": " + why);
  }
  SSL_CTX_set_verify(
      ctx, server ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER, nullptr);
  if (server) {
    SSL_CTX_set_num_tickets(ctx, 0);  // as assas-ingest: nothing after the handshake but our bytes
  }
  return ctx;
}

int remaining_ms(Clock::time_point until) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
  return static_cast<int>(std::clamp<int64_t>(left.count(), 0, 60000));
}

// Waits for events on fd until `until`; false at the deadline.
bool wait_fd(int fd, short events, Clock::time_point until) {
  for (;;) {
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, remaining_ms(until));
    if (rc > 0) {
      return true;
    }
    if (rc == 0) {
      return false;
    }
    if (errno != EINTR) {
      return false;
    }
  }
}

}  // namespace

TlsTestConnection::TlsTestConnection(ssl_ctx_st* context, int fd, bool server) : fd_(fd) {
  ssl_ = SSL_new(context);
  in_ = BIO_new(BIO_s_mem());
  out_ = BIO_new(BIO_s_mem());
  if (ssl_ == nullptr || in_ == nullptr || out_ == nullptr) {
    SSL_free(ssl_);
    BIO_free(in_);
    BIO_free(out_);
    ::close(fd_);
    throw std::runtime_error("cannot allocate a TLS test session");
  }
  SSL_set_bio(ssl_, in_, out_);
  if (server) {
    SSL_set_accept_state(ssl_);
  } else {
    SSL_set_connect_state(ssl_);
  }
}

TlsTestConnection::~TlsTestConnection() {
  close(false);
  SSL_free(ssl_);  // frees both memory BIOs too
}

bool TlsTestConnection::flush(Clock::time_point until) {
  std::string pending;
  char chunk[16384];
  for (int n = BIO_read(out_, chunk, sizeof chunk); n > 0;
       n = BIO_read(out_, chunk, sizeof chunk)) {
    pending.append(chunk, static_cast<size_t>(n));
  }
  size_t done = 0;
  while (done < pending.size()) {
    ssize_t n = ::send(fd_, pending.data() + done, pending.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_fd(fd_, POLLOUT, until)) {
        error_ = "write deadline passed";
        return false;
      }
    } else {
      error_ = std::string("send: ") + errno_text(errno);
      peer_closed_ = true;
      return false;
    }
  }
  return true;
}

bool TlsTestConnection::fill(Clock::time_point until) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      BIO_write(in_, buf, static_cast<int>(n));
      return true;
    }
    if (n == 0) {
      error_ = "peer closed the connection";
      peer_closed_ = true;
      return false;
    }
    if (errno != EAGAIN && errno != EINTR) {
      error_ = std::string("recv: ") + errno_text(errno);
      peer_closed_ = true;
      return false;
    }
    if (!wait_fd(fd_, POLLIN, until)) {
      error_ = "read deadline passed";
      return false;
    }
  }
}

bool TlsTestConnection::drive(const std::function<int()>& call, Clock::time_point until) {
  for (;;) {
    ERR_clear_error();
    int rc = call();
    int err = rc > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl_, rc);
    if (!flush(until)) {
      return false;
    }
    if (rc > 0) {
      return true;
    }
    if (err == SSL_ERROR_WANT_READ) {
      if (!fill(until)) {
        return false;
      }
      continue;
    }
    if (err == SSL_ERROR_ZERO_RETURN) {
      peer_closed_ = true;
      error_ = "peer sent close_notify";
    } else {
      error_ = openssl_errors();
    }
    return false;
  }
}

bool TlsTestConnection::write(std::string_view bytes, std::chrono::milliseconds deadline) {
  if (fd_ < 0 || bytes.empty()) {
    return fd_ >= 0;
  }
  return drive([&] { return SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size())); },
               Clock::now() + deadline);
}

std::string TlsTestConnection::read_some(std::chrono::milliseconds deadline) {
  std::string got;
  if (fd_ < 0 || peer_closed_) {
    return got;
  }
  Clock::time_point until = Clock::now() + deadline;
  char buf[16384];
  for (;;) {
    ERR_clear_error();
    int n = SSL_read(ssl_, buf, sizeof buf);
    if (n > 0) {
      got.append(buf, static_cast<size_t>(n));
      continue;  // take whatever else is already decrypted or buffered
    }
    int err = SSL_get_error(ssl_, n);
    if (!flush(until)) {
      return got;
    }
    if (err == SSL_ERROR_WANT_READ) {
      if (!got.empty() || !fill(until)) {
        return got;
      }
      continue;
    }
    error_ = err == SSL_ERROR_ZERO_RETURN ? "peer sent close_notify" : openssl_errors();
    peer_closed_ = true;
    return got;
  }
}

bool TlsTestConnection::wait_peer_closed(std::chrono::milliseconds deadline,
                                         std::string& received) {
  Clock::time_point until = Clock::now() + deadline;
  while (!peer_closed_ && fd_ >= 0 && Clock::now() < until) {
    received +=
        read_some(std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()));
  }
  return peer_closed_;
}

void TlsTestConnection::close(bool notify) {
  if (fd_ < 0) {
    return;
  }
  Clock::time_point until = Clock::now() + std::chrono::seconds(2);
  if (notify && !peer_closed_) {
    ERR_clear_error();
    (void)SSL_shutdown(ssl_);  // queues close_notify; we do not wait for the peer's
    (void)flush(until);
  }
  // FIN first, then read until the peer closes too (bounded): closing a socket with unread bytes
  // in it would send a reset, and the peer would report that instead of our close.
  (void)::shutdown(fd_, SHUT_WR);
  char buf[65536];
  while (!peer_closed_ && wait_fd(fd_, POLLIN, until)) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      peer_closed_ = true;
    }
  }
  ::close(fd_);
  fd_ = -1;
}

TlsTestServer::TlsTestServer(const TlsFiles& files,
                             std::function<void(TlsTestConnection&)> on_connection)
    : context_(make_context(files, true)), on_connection_(std::move(on_connection)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;  // a free port, read back below
  socklen_t length = sizeof addr;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    std::string why = errno_text(errno);
    if (listen_fd_ >= 0) {
      ::close(listen_fd_);
    }
    SSL_CTX_free(context_);
    throw std::runtime_error("TLS test server cannot listen on 127.0.0.1: " + why);
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { run(); });
}

TlsTestServer::~TlsTestServer() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
  SSL_CTX_free(context_);
}

void TlsTestServer::run() {
  while (!stop_) {
    if (!wait_fd(listen_fd_, POLLIN, Clock::now() + std::chrono::milliseconds(50))) {
      continue;
    }
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      continue;
    }
    ++accepted_;
    try {
      TlsTestConnection connection(context_, fd, true);
      if (connection.drive([&connection] { return SSL_accept(connection.ssl_); },
                           Clock::now() + std::chrono::seconds(5))) {
        ++handshakes_;
        on_connection_(connection);
      } else {
        (void)std::fprintf(stderr, "TLS test server: handshake failed: %s\n",
                           connection.error_.c_str());
      }
    } catch (const std::exception& e) {
      (void)std::fprintf(stderr, "TLS test server: %s\n", e.what());
    }
  }
}

std::unique_ptr<TlsTestConnection> tls_test_connect(int port, const TlsFiles& files,
                                                    const std::string& server_name,
                                                    std::chrono::milliseconds deadline) {
  Clock::time_point until = Clock::now() + deadline;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw std::runtime_error(std::string("socket: ") + errno_text(errno));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int error = rc == 0 ? 0 : errno;
  if (error == EINPROGRESS) {
    socklen_t length = sizeof error;
    error =
        wait_fd(fd, POLLOUT, until) && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0
            ? error
            : ETIMEDOUT;
  }
  if (error != 0) {
    ::close(fd);
    throw std::runtime_error("connect 127.0.0.1:" + std::to_string(port) + ": " +
                             errno_text(error));
  }
  SSL_CTX* context = make_context(files, false);
  std::unique_ptr<TlsTestConnection> connection(new TlsTestConnection(context, fd, false));
  SSL_CTX_free(context);  // the session holds its own reference
  SSL* ssl = connection->ssl_;
  // SSL_set_tlsext_host_name is a macro with a C cast; this is what it expands to.
  if (SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(server_name.c_str())) != 1 ||
      SSL_set1_host(ssl, server_name.c_str()) != 1) {
    throw std::runtime_error("server name '" + server_name + "': " + openssl_errors());
  }
  if (!connection->drive([ssl] { return SSL_connect(ssl); }, until)) {
    throw std::runtime_error("TLS handshake with 127.0.0.1:" + std::to_string(port) +
                             " failed: " + connection->error_);
  }
  return connection;
}

}  // namespace assas::test
