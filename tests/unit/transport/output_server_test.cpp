// The native output and the TLS server talking to each other on one loop, over real TCP on
// 127.0.0.1 and real mutual TLS with certificates made at test time.

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include <netinet/in.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <poll.h>
#include <unistd.h>

#include "base/uv_util.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "transport/client/assas_output.h"
#include "transport/protocol/frame_codec.h"
#include "transport/server/tls_server.h"
#include "transport/tls/tls_session.h"

namespace assas::transport {
namespace {

using namespace std::chrono_literals;

// A receiver whose behaviour each test sets.
struct Receiver final : ConnectionAcceptor {
  struct Handler final : ConnectionHandler {
    Handler(Receiver& r, PeerConnection& c) : receiver(r), connection(c) {}
    void on_frame(const Frame& frame) override { receiver.on_frame(connection, frame); }
    void on_closed(const Status&) override { ++receiver.closed; }
    Receiver& receiver;
    PeerConnection& connection;
  };
  std::unique_ptr<ConnectionHandler> on_connection(PeerConnection& c) override {
    identities.push_back(c.peer_identity());
    return std::make_unique<Handler>(*this, c);
  }
  void on_frame(PeerConnection& c, const Frame& frame) {
    if (std::holds_alternative<HelloFrame>(frame)) {
      hellos.push_back(std::get<HelloFrame>(frame));
      if (answer_hello) {
        c.send(HelloOkFrame{kProtocolVersion, stored_upto, 4, 1 << 20, 1 << 20});
      }
    } else if (const auto* b = std::get_if<BatchFrame>(&frame)) {
      payloads.emplace_back(b->payload);
      stored_upto = b->seq;
      c.send(AckFrame{b->seq + ack_offset, 4, 1 << 20});
    }
    // pings go unanswered when answer_pings is false
    if (const auto* p = std::get_if<PingFrame>(&frame); p != nullptr && answer_pings) {
      c.send(PongFrame{p->nonce});
    }
  }
  std::vector<std::string> identities;
  std::vector<HelloFrame> hellos;
  std::vector<std::string> payloads;
  uint64_t stored_upto = 0;
  uint64_t ack_offset = 0;
  bool answer_hello = true;
  bool answer_pings = true;
  int closed = 0;
};

// An agent side that sends batches 1..n as credits allow.
struct Sender final : OutputListener {
  Status on_connected(uint64_t stored) override {
    ++connected;
    next = stored + 1;
    pump();
    return Status::ok();
  }
  void on_acked(uint64_t upto) override { acked = upto; }
  void on_writable() override { pump(); }
  void on_disconnected(const Status& why) override {
    ++disconnected;
    last_error = why;
  }
  void pump() {
    while (output != nullptr && next <= total && output->can_send()) {
      auto payload = std::make_shared<const std::string>("batch " + std::to_string(next));
      output->send(OutgoingBatch{
          next, 1, static_cast<uint32_t>(payload->size()), Codec::kNone, payload, {}});
      ++next;
    }
  }
  Output* output = nullptr;
  uint64_t next = 1;
  uint64_t total = 0;
  uint64_t acked = 0;
  int connected = 0;
  int disconnected = 0;
  Status last_error;
};

struct Harness {
  Harness() {
    ignore_sigpipe();
    REQUIRE(uv_loop_init(&loop) == 0);
    TlsServerOptions options;
    options.listen = {"127.0.0.1:0"};
    options.tls = {pki.ca(), pki.server_cert(), pki.server_key(), ""};
    options.handshake_timeout = 2s;
    server = std::move(TlsServer::create(&loop, options, receiver)).value();
    REQUIRE(server->start().is_ok());
  }
  std::unique_ptr<Output> make_output(std::function<void(AssasOutputOptions&)> tweak = {}) {
    AssasOutputOptions o;
    o.endpoints = {"127.0.0.1:" + std::to_string(server->bound_ports().at(0))};
    o.tls = {pki.ca(), pki.client_cert(), pki.client_key(), "localhost"};
    o.agent_id = "claims-to-be-someone-else";
    o.host = "web-01";
    o.stream_id = 77;
    o.backoff_min = 20ms;
    o.backoff_max = 100ms;
    if (tweak) {
      tweak(o);
    }
    auto out = make_assas_output(&loop, o);
    REQUIRE(out.status().to_string() == "OK");
    return std::move(out).value();
  }
  // Runs until done() or 10 s.
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    uv_timer_t tick;
    uv_timer_init(&loop, &tick);
    uv_timer_start(
        &tick, [](uv_timer_t*) {}, 10, 10);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      uv_run(&loop, UV_RUN_ONCE);
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
    uv_run(&loop, UV_RUN_NOWAIT);
    return done();
  }
  void finish(std::unique_ptr<Output>& output) {
    bool out_closed = false;
    bool server_closed = false;
    output->close([&] { out_closed = true; });
    server->close([&] { server_closed = true; });
    REQUIRE(run_until([&] { return out_closed && server_closed; }));
    output.reset();
    server.reset();
    REQUIRE(uv_run(&loop, UV_RUN_DEFAULT) == 0);
    REQUIRE(uv_loop_close(&loop) == 0);
  }

  // For tests without an output: closes the server and proves the loop clean.
  void finish_server() {
    bool server_closed = false;
    server->close([&] { server_closed = true; });
    REQUIRE(run_until([&] { return server_closed; }));
    server.reset();
    REQUIRE(uv_run(&loop, UV_RUN_DEFAULT) == 0);
    REQUIRE(uv_loop_close(&loop) == 0);
  }

  assas::test::TempDir dir;
  assas::test::TestPki pki = assas::test::make_test_pki(dir.file("pki"), "web-01");
  uv_loop_t loop{};
  Receiver receiver;
  std::unique_ptr<TlsServer> server;
};

// A blocking TCP connection to 127.0.0.1:port with a client TLS session started on it, for the
// hand-made clients below; ok is false if either failed.
struct BlockingTlsClient {
  BlockingTlsClient(const assas::test::TestPki& pki, int port)
      : fd(::socket(AF_INET, SOCK_STREAM, 0)),
        tls(TlsSession::client(
            TlsContext::make_client({pki.ca(), pki.client_cert(), pki.client_key(), ""}).value(),
            "localhost")) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
         (*tls)->start().is_ok();
  }
  int fd;
  Result<std::unique_ptr<TlsSession>> tls;
  bool ok = false;
};

// A blocking TLS client on its own thread: handshake, hello, wait for the answer, then a TCP
// reset (SO_LINGER 0) instead of a clean close, like an agent killed with SIGKILL. Bounded: gives
// up after 10 s.
void hello_then_reset(const assas::test::TestPki& pki, int port, std::atomic<bool>& done) {
  BlockingTlsClient client(pki, port);
  int fd = client.fd;
  auto& tls = client.tls;
  bool ok = client.ok;
  bool hello_sent = false;
  std::string plaintext;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (ok && plaintext.empty() && std::chrono::steady_clock::now() < deadline) {
    if ((*tls)->handshake_complete() && !hello_sent) {
      std::string bytes;
      encode_frame(HelloFrame{kProtocolVersion, "web-01", "web-01", 1}, bytes);
      ok = (*tls)->send(bytes).is_ok();
      hello_sent = true;
    }
    std::string out = (*tls)->take_output();
    ok = ok && ::write(fd, out.data(), out.size()) == static_cast<ssize_t>(out.size());
    pollfd p{fd, POLLIN, 0};
    if (ok && ::poll(&p, 1, 100) == 1) {
      char buf[16384];
      ssize_t n = ::read(fd, buf, sizeof buf);
      ok = n > 0 &&
           (*tls)->receive(std::string_view(buf, static_cast<size_t>(n)), plaintext).is_ok();
    }
  }
  linger reset{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  ::close(fd);
  done = true;
}

// A blocking TLS client on its own thread: handshake and hello, then, once hello_ok is in, one
// batch frame and a close_notify written together (one write, so they arrive in one read), then
// it waits for the server to close. Bounded: gives up after 10 s.
void batch_then_close_notify(const assas::test::TestPki& pki, int port, std::atomic<bool>& done) {
  BlockingTlsClient client(pki, port);
  int fd = client.fd;
  auto& tls = client.tls;
  bool ok = client.ok;
  bool hello_sent = false;
  bool closing = false;
  std::string plaintext;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (ok && std::chrono::steady_clock::now() < deadline) {
    std::string bytes;
    if ((*tls)->handshake_complete() && !hello_sent) {
      encode_frame(HelloFrame{kProtocolVersion, "web-01", "web-01", 1}, bytes);
      hello_sent = true;
    } else if (!plaintext.empty() && !closing) {  // hello_ok
      std::string payload = "the last words";
      BatchFrame batch;
      batch.seq = 1;
      batch.event_count = 1;
      batch.raw_size = static_cast<uint32_t>(payload.size());
      batch.codec = Codec::kNone;
      batch.payload = payload;
      encode_frame(batch, bytes);
      closing = true;
    }
    ok = bytes.empty() || (*tls)->send(bytes).is_ok();
    if (closing && !bytes.empty()) {
      (*tls)->shutdown();
    }
    std::string out = (*tls)->take_output();
    ok = ok && ::write(fd, out.data(), out.size()) == static_cast<ssize_t>(out.size());
    pollfd p{fd, POLLIN, 0};
    if (ok && ::poll(&p, 1, 100) == 1) {
      char buf[16384];
      ssize_t n = ::read(fd, buf, sizeof buf);
      ok = n > 0 &&
           (closing ||
            (*tls)->receive(std::string_view(buf, static_cast<size_t>(n)), plaintext).is_ok());
    }
  }
  ::close(fd);
  done = true;
}

}  // namespace

TEST_CASE("batches flow under credits and acks come back and identity comes from the certificate",
          "[output][server]") {
  Harness h;
  auto output = h.make_output();
  Sender sender;
  sender.output = output.get();
  sender.total = 20;
  REQUIRE(output->start(sender).is_ok());
  REQUIRE(h.run_until([&] { return sender.acked == 20; }));
  REQUIRE(h.receiver.identities == std::vector<std::string>{"web-01"});
  REQUIRE(h.receiver.hellos.at(0).agent_id == "claims-to-be-someone-else");
  REQUIRE(h.receiver.hellos.at(0).stream_id == 77);
  REQUIRE(h.receiver.payloads.size() == 20);
  REQUIRE(h.receiver.payloads[19] == "batch 20");
  REQUIRE(sender.connected == 1);
  h.finish(output);
}

TEST_CASE("an acknowledgement for a batch never sent drops the connection", "[output][server]") {
  Harness h;
  h.receiver.ack_offset = 5;  // lies: acknowledges five batches ahead
  auto output = h.make_output();
  Sender sender;
  sender.output = output.get();
  sender.total = 1;
  REQUIRE(output->start(sender).is_ok());
  REQUIRE(h.run_until([&] { return sender.disconnected >= 1; }));
  REQUIRE(sender.acked == 0);
  REQUIRE_THAT(sender.last_error.message(), Catch::Contains("only 1 was sent"));
  h.finish(output);
}

TEST_CASE("a receiver that stops answering is detected by the heartbeat and reconnected",
          "[output][server]") {
  Harness h;
  h.receiver.answer_pings = false;
  auto output = h.make_output([](AssasOutputOptions& o) {
    o.heartbeat_interval = 50ms;
    o.heartbeat_timeout = 200ms;
  });
  Sender sender;
  sender.output = output.get();
  REQUIRE(output->start(sender).is_ok());
  REQUIRE(h.run_until([&] { return sender.connected >= 2; }));
  REQUIRE(sender.disconnected >= 1);
  REQUIRE_THAT(sender.last_error.message(), Catch::Contains("presumed dead"));
  h.finish(output);
}

TEST_CASE("a receiver whose certificate names another host is never trusted", "[output][server]") {
  Harness h;
  auto output = h.make_output([](AssasOutputOptions& o) { o.tls.server_name = "soc1.example.ma"; });
  Sender sender;
  sender.output = output.get();
  REQUIRE(output->start(sender).is_ok());
  // Several attempts (backoff 20..100 ms), each refused by the agent during the handshake.
  h.run_until([] { return false; }, 700ms);
  REQUIRE(sender.connected == 0);
  REQUIRE(h.receiver.hellos.empty());
  h.finish(output);
}

TEST_CASE("a client that connects and says nothing is dropped at the handshake timeout",
          "[server]") {
  Harness h;
  // A raw TCP client that never speaks TLS.
  uv_tcp_t tcp;
  uv_connect_t req;
  REQUIRE(uv_tcp_init(&h.loop, &tcp) == 0);
  sockaddr_in addr{};
  uv_ip4_addr("127.0.0.1", h.server->bound_ports().at(0), &addr);
  bool eof = false;
  tcp.data = &eof;
  REQUIRE(
      uv_tcp_connect(&req, &tcp, reinterpret_cast<sockaddr*>(&addr), [](uv_connect_t* r, int s) {
        REQUIRE(s == 0);
        uv_read_start(
            r->handle,
            [](uv_handle_t*, size_t, uv_buf_t* b) {
              static char buf[1024];
              *b = uv_buf_init(buf, sizeof buf);
            },
            [](uv_stream_t* stream, ssize_t n, const uv_buf_t*) {
              if (n < 0) {
                *static_cast<bool*>(stream->data) = true;
              }
            });
      }) == 0);
  auto started = std::chrono::steady_clock::now();
  REQUIRE(h.run_until([&] { return eof; }));
  REQUIRE(std::chrono::steady_clock::now() - started >= 1900ms);
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp), nullptr);
  h.finish_server();
}

TEST_CASE("a peer that resets the connection after its hello is closed once, without a loop",
          "[server]") {
  // The reset makes the read fail and libuv refuse further writes at once; telling the peer why
  // must not close again (this once recursed until the stack overflowed).
  Harness h;
  std::atomic<bool> client_done{false};
  std::thread client(hello_then_reset, std::cref(h.pki), h.server->bound_ports().at(0),
                     std::ref(client_done));
  bool closed = h.run_until([&] { return client_done && h.receiver.closed == 1; });
  client.join();
  REQUIRE(closed);
  REQUIRE(h.receiver.hellos.size() == 1);
  h.finish_server();
}

TEST_CASE("a frame that arrives together with the peer's close_notify is still delivered",
          "[server]") {
  Harness h;
  std::atomic<bool> client_done{false};
  std::thread client(batch_then_close_notify, std::cref(h.pki), h.server->bound_ports().at(0),
                     std::ref(client_done));
  bool closed = h.run_until([&] { return client_done && h.receiver.closed == 1; });
  client.join();
  REQUIRE(closed);
  REQUIRE(h.receiver.hellos.size() == 1);
  REQUIRE(h.receiver.payloads == std::vector<std::string>{"the last words"});
  h.finish_server();
}

}  // namespace assas::transport
