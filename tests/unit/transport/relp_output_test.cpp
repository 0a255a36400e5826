// The RELP output against a scripted RELP server on the same loop (real TCP on 127.0.0.1). rsyslog
// is the real peer in tests/integration/syslog_outputs_test.cpp; this server stands in for the
// answers rsyslog cannot be made to give on demand: a refusal, an answer out of order, a
// serverclose, a close after answering part of a batch.

#include "transport/relp/relp_output.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "base/uv_util.h"
#include "tests/unit/transport/test_shipper.h"
#include "transport/protocol/batch_codec.h"
#include "transport/relp/relp_frame.h"

namespace assas::transport {
namespace {

using namespace std::chrono_literals;

// A RELP server: answers open with librelp's offers and each syslog command as answer() says.
struct ScriptedServer {
  struct Connection {
    uv_tcp_t tcp{};
    ScriptedServer* server = nullptr;
    RelpFrameDecoder decoder{1 << 20};
    bool closed = false;
  };

  explicit ScriptedServer(uv_loop_t* loop) {
    REQUIRE(uv_tcp_init(loop, &listener) == 0);
    listener.data = this;
    sockaddr_in address{};
    REQUIRE(uv_ip4_addr("127.0.0.1", 0, &address) == 0);
    REQUIRE(uv_tcp_bind(&listener, reinterpret_cast<const sockaddr*>(&address), 0) == 0);
    REQUIRE(uv_listen(reinterpret_cast<uv_stream_t*>(&listener), 8, &on_connection) == 0);
    sockaddr_storage bound{};
    int length = sizeof bound;
    REQUIRE(uv_tcp_getsockname(&listener, reinterpret_cast<sockaddr*>(&bound), &length) == 0);
    port = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }

  static void on_connection(uv_stream_t* listener, int status) {
    auto* self = static_cast<ScriptedServer*>(listener->data);
    REQUIRE(status == 0);
    auto c = std::make_unique<Connection>();
    c->server = self;
    REQUIRE(uv_tcp_init(listener->loop, &c->tcp) == 0);
    c->tcp.data = c.get();
    REQUIRE(uv_accept(listener, reinterpret_cast<uv_stream_t*>(&c->tcp)) == 0);
    REQUIRE(uv_read_start(
                reinterpret_cast<uv_stream_t*>(&c->tcp),
                [](uv_handle_t*, size_t, uv_buf_t* buf) {
                  static char buffer[65536];
                  *buf = uv_buf_init(buffer, sizeof buffer);
                },
                &on_read) == 0);
    ++self->connections;
    self->live.push_back(std::move(c));
  }

  static void on_read(uv_stream_t* stream, ssize_t n, const uv_buf_t* buf) {
    auto* c = static_cast<Connection*>(stream->data);
    if (n < 0) {
      c->server->close(*c);
      return;
    }
    c->decoder.feed(std::string_view(buf->base, static_cast<size_t>(n)));
    while (!c->closed) {
      Result<std::optional<RelpFrame>> frame = c->decoder.next();
      REQUIRE(frame.is_ok());
      if (!frame->has_value()) {
        break;
      }
      c->server->on_frame(*c, **frame);
    }
  }

  void on_frame(Connection& c, const RelpFrame& frame) {
    std::string reply;
    if (frame.command == "open") {
      encode_relp_frame(frame.txnr, "rsp",
                        "200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,x\ncommands=syslog",
                        reply);
    } else if (frame.command == "syslog") {
      reply = answer(frame.txnr, std::string(frame.data));
      if (reply.empty()) {
        return;  // no answer (yet)
      }
    }
    send(c, reply);
  }

  void send(Connection& c, const std::string& bytes) {
    if (c.closed || bytes.empty()) {
      return;
    }
    write_owned(reinterpret_cast<uv_stream_t*>(&c.tcp), bytes, this, [](void*, int) {});
  }

  void close(Connection& c) {
    if (!c.closed) {
      c.closed = true;
      uv_close(reinterpret_cast<uv_handle_t*>(&c.tcp), nullptr);
    }
  }

  void close_all() {
    for (auto& c : live) {
      close(*c);
    }
  }

  void shutdown() {
    close_all();
    uv_close(reinterpret_cast<uv_handle_t*>(&listener), nullptr);
  }

  // The reply to a syslog command (whole frames), "" for none.
  std::function<std::string(uint32_t txnr, const std::string& message)> answer;
  uv_tcp_t listener{};
  int port = 0;
  int connections = 0;
  std::vector<std::unique_ptr<Connection>> live;
};

std::string ok(uint32_t txnr) {
  std::string frame;
  encode_relp_frame(txnr, "rsp", "200 OK", frame);
  return frame;
}

// The message part of an RFC 5424 message: what follows the structured data.
std::string msg_of(const std::string& message) {
  return message.substr(message.rfind(' ') + 1);
}

struct Harness {
  Harness() {
    ignore_sigpipe();
    REQUIRE(uv_loop_init(&loop) == 0);
    server = std::make_unique<ScriptedServer>(&loop);
    REQUIRE(uv_timer_init(&loop, &tick) == 0);
  }
  void start(uint64_t batches) {
    RelpOutputOptions o;
    o.name = "relp";
    o.endpoints = {"127.0.0.1:" + std::to_string(server->port)};
    o.use_tls = false;
    o.backoff_min = 10ms;
    o.backoff_max = 20ms;
    o.window = 4;
    auto made = make_relp_output(&loop, o);
    REQUIRE(made.status().to_string() == "OK");
    output = std::move(made).value();
    shipper.output = output.get();
    shipper.total = batches;
    REQUIRE(output->start(shipper).is_ok());
  }
  bool run_until(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    uv_timer_start(
        &tick, [](uv_timer_t*) {}, 5, 5);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      uv_run(&loop, UV_RUN_ONCE);
    }
    uv_timer_stop(&tick);
    return done();
  }
  ~Harness() {
    bool closed = false;
    if (output) {
      output->close([&] { closed = true; });
    }
    server->shutdown();
    uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK((closed || !output));
    output.reset();
    CHECK(uv_loop_close(&loop) == 0);
  }
  uv_loop_t loop{};
  uv_timer_t tick{};
  std::unique_ptr<ScriptedServer> server;
  std::unique_ptr<Output> output;
  Shipper shipper;
};

TEST_CASE("relp output acknowledges a batch once every message in it is answered") {
  Harness h;
  std::vector<std::string> got;
  h.server->answer = [&](uint32_t txnr, const std::string& message) {
    got.push_back(msg_of(message));
    return ok(txnr);
  };
  h.start(5);
  REQUIRE(h.run_until([&] { return h.shipper.acked == 5; }));
  REQUIRE(got.size() == 15);
  CHECK(got.front() == "m1.0");
  CHECK(got.back() == "m5.2");
  CHECK(h.output->stats().connected);
}

TEST_CASE("relp output sends after a reconnect only the messages that were not answered") {
  Harness h;
  std::vector<std::string> got;
  int answered = 0;
  h.server->answer = [&](uint32_t txnr, const std::string& message) -> std::string {
    got.push_back(msg_of(message));
    // The first session answers the first batch and one message of the second, then the
    // receiver goes away without a word.
    if (h.server->connections == 1 && ++answered > 4) {
      h.server->close_all();
      return "";
    }
    return ok(txnr);
  };
  h.start(3);
  REQUIRE(h.run_until([&] { return h.shipper.acked == 3; }));
  CHECK(h.shipper.disconnected == 1);
  std::map<std::string, int> counts;
  for (const std::string& m : got) {
    ++counts[m];
  }
  // m2.0 was answered before the break and is not sent again; m2.1 (sent, unanswered) is.
  CHECK(counts["m1.0"] == 1);
  CHECK(counts["m2.0"] == 1);
  CHECK(counts["m2.1"] == 2);
  CHECK(counts["m3.2"] >= 1);
}

TEST_CASE("relp output takes a refusal as no delivery and sends the message again") {
  Harness h;
  int refusals = 0;
  std::vector<std::string> got;
  h.server->answer = [&](uint32_t txnr, const std::string& message) {
    got.push_back(msg_of(message));
    std::string frame;
    if (msg_of(message) == "m1.1" && refusals++ == 0) {
      encode_relp_frame(txnr, "rsp", "500 queue full", frame);
      return frame;
    }
    return ok(txnr);
  };
  h.start(2);
  REQUIRE(h.run_until([&] { return h.shipper.acked == 2; }));
  CHECK(h.shipper.last_error.find("500 queue full") != std::string::npos);
  CHECK(std::count(got.begin(), got.end(), "m1.1") == 2);
  CHECK(std::count(got.begin(), got.end(), "m1.0") == 1);
}

TEST_CASE("relp output drops a session whose answers come out of order") {
  Harness h;
  h.server->answer = [&](uint32_t txnr, const std::string&) {
    // The first session answers each message as if it were the next one's.
    return ok(h.server->connections == 1 ? txnr + 1 : txnr);
  };
  h.start(1);
  REQUIRE(h.run_until([&] { return h.shipper.acked == 1; }));
  CHECK(h.shipper.last_error.find("answered txnr 3 but txnr 2 was next") != std::string::npos);
  CHECK(h.output->stats().protocol_errors == 1);
}

TEST_CASE("relp output reconnects after a serverclose and loses nothing") {
  Harness h;
  h.server->answer = [&](uint32_t txnr, const std::string&) {
    if (h.server->connections == 1 && txnr == 3) {
      std::string frame;
      encode_relp_frame(0, "serverclose", "", frame);
      return frame;
    }
    return ok(txnr);
  };
  h.start(2);
  REQUIRE(h.run_until([&] { return h.shipper.acked == 2; }));
  CHECK(h.shipper.last_error.find("serverclose") != std::string::npos);
  CHECK(h.server->connections == 2);
}

}  // namespace
}  // namespace assas::transport
