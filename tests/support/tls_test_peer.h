#pragma once

// TLS 1.3 endpoints for tests that play a misbehaving peer of the native protocol: a bad receiver
// for the real assas-agent (TlsTestServer, on its own thread) or a bad agent for the real
// assas-ingest (tls_test_connect, on the caller's thread). Written with OpenSSL directly, so that
// nothing of the code under test is involved in the misbehaviour. Both sides use mutual TLS as our
// programs do: the server presents its certificate and requires a client certificate signed by the
// CA, the client verifies the server's name. The caller sends and reads raw application bytes and
// so can write anything at all on the wire.
//
// Every wait has a deadline. The sockets are non-blocking and OpenSSL runs over memory buffers, so
// that writes to a peer that has gone use send(MSG_NOSIGNAL) and cannot raise SIGPIPE.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

struct ssl_st;
struct ssl_ctx_st;
struct bio_st;

namespace assas::test {

struct TlsFiles {
  std::string ca;    // PEM CA that signs the peer's certificate
  std::string cert;  // this end's certificate
  std::string key;   // this end's key
};

// One established TLS connection, either side. One thread at a time.
class TlsTestConnection {
 public:
  ~TlsTestConnection();
  TlsTestConnection(const TlsTestConnection&) = delete;
  TlsTestConnection& operator=(const TlsTestConnection&) = delete;

  // Encrypts and writes all of bytes; false if the peer is gone or the deadline passed.
  bool write(std::string_view bytes,
             std::chrono::milliseconds deadline = std::chrono::milliseconds(5000));
  // Waits up to deadline for application bytes and returns what has arrived (possibly more than
  // one write's worth); "" at the deadline, or once the peer has closed (then peer_closed()).
  std::string read_some(std::chrono::milliseconds deadline);
  // Reads until the peer closes (true) or the deadline passes (false); what arrived meanwhile is
  // appended to received.
  bool wait_peer_closed(std::chrono::milliseconds deadline, std::string& received);
  // The peer sent close_notify, closed its socket or reset the connection.
  bool peer_closed() const { return peer_closed_; }
  // Closes the socket, after a close_notify alert when notify is true; without one it looks like
  // a crash or a cut cable. Idempotent; the destructor closes without notify.
  void close(bool notify);

 private:
  friend class TlsTestServer;
  friend std::unique_ptr<TlsTestConnection> tls_test_connect(int, const TlsFiles&,
                                                             const std::string&,
                                                             std::chrono::milliseconds);
  TlsTestConnection(ssl_ctx_st* context, int fd, bool server);
  // Runs one SSL call until it succeeds, feeding the socket to it; false on failure or deadline.
  bool drive(const std::function<int()>& call, std::chrono::steady_clock::time_point until);
  bool flush(std::chrono::steady_clock::time_point until);
  bool fill(std::chrono::steady_clock::time_point until);

  ssl_st* ssl_ = nullptr;
  bio_st* in_ = nullptr;   // ciphertext from the socket, owned by ssl_
  bio_st* out_ = nullptr;  // ciphertext for the socket, owned by ssl_
  int fd_ = -1;
  bool peer_closed_ = false;
  std::string error_;  // the last OpenSSL or socket failure, for messages
};

// Listens on 127.0.0.1 (a free port) and accepts connections one at a time on its own thread. For
// each connection whose TLS handshake completes (client certificate verified), it runs
// on_connection on that thread, then closes the connection if the handler did not. on_connection
// must bound its own waits.
class TlsTestServer {
 public:
  TlsTestServer(const TlsFiles& files, std::function<void(TlsTestConnection&)> on_connection);
  // Stops accepting and waits for the running handler to return.
  ~TlsTestServer();
  TlsTestServer(const TlsTestServer&) = delete;
  TlsTestServer& operator=(const TlsTestServer&) = delete;

  int port() const { return port_; }
  // Connections accepted, and those of them that completed the TLS handshake.
  int accepted() const { return accepted_.load(); }
  int handshakes() const { return handshakes_.load(); }

 private:
  void run();

  ssl_ctx_st* context_ = nullptr;
  int listen_fd_ = -1;
  int port_ = 0;
  std::function<void(TlsTestConnection&)> on_connection_;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> handshakes_{0};
  std::thread thread_;
};

// Connects to 127.0.0.1:port and completes a TLS 1.3 handshake, verifying that the server's
// certificate names server_name. Throws std::runtime_error saying what failed.
std::unique_ptr<TlsTestConnection> tls_test_connect(int port, const TlsFiles& files,
                                                    const std::string& server_name,
                                                    std::chrono::milliseconds deadline);

}  // namespace assas::test
