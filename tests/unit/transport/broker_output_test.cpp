// What BrokerOutput itself promises, whatever the engine: acknowledgements in seq order, a failed
// publish ending the session with everything unacknowledged sent again, outcomes of a session
// already given up ignored, backpressure, connect retries and the ack watchdog. The client here is
// a stand-in for an engine's library that the test confirms or fails publishes on; the real
// engines (a JetStream cluster, librdkafka's mock cluster) are in tests/integration.

#include "transport/broker/broker_output.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/unit/transport/test_shipper.h"

namespace assas::transport {
namespace {

using namespace std::chrono_literals;

// What the stand-in engine saw, shared between the test and the publisher thread.
struct FakeEngine {
  struct Publish {
    uint64_t seq;
    std::string json;
    PublishDone done;
  };
  std::mutex mutex;
  std::vector<Publish> publishes;
  int connects = 0;
  int refuse_connects = 0;
  std::atomic<size_t> max_event{SIZE_MAX};  // read by the publisher thread

  size_t published() {
    std::lock_guard lock(mutex);
    return publishes.size();
  }
  // Reports the outcome of the i-th publish, as a library's callback thread would.
  void finish(size_t i, const Status& status = Status::ok()) {
    PublishDone done;
    {
      std::lock_guard lock(mutex);
      done = publishes.at(i).done;
    }
    done(status);
  }
};

class FakeClient final : public BrokerClient {
 public:
  explicit FakeClient(std::shared_ptr<FakeEngine> engine) : engine_(std::move(engine)) {}
  Status connect() override {
    std::lock_guard lock(engine_->mutex);
    ++engine_->connects;
    if (engine_->refuse_connects > 0) {
      --engine_->refuse_connects;
      return unavailable("engine down");
    }
    return Status::ok();
  }
  Status publish(const EncodedBatch& batch, PublishDone done) override {
    std::lock_guard lock(engine_->mutex);
    std::string events;  // what the engine gets: the events' JSON, one per line
    for (const EncodedEvent& event : batch.events) {
      events.append(event.json).push_back('\n');
    }
    engine_->publishes.push_back({batch.seq, events, std::move(done)});
    bytes_ += batch.json.size();
    return Status::ok();
  }
  void disconnect() override {}
  uint64_t bytes_sent() const override { return bytes_; }
  size_t max_event_bytes() const override { return engine_->max_event; }

 private:
  std::shared_ptr<FakeEngine> engine_;
  uint64_t bytes_ = 0;
};

struct Harness {
  explicit Harness(uint64_t batches, uint32_t max_inflight_batches = 64,
                   std::chrono::milliseconds ack_timeout = 0ms) {
    REQUIRE(uv_loop_init(&loop) == 0);
    REQUIRE(uv_timer_init(&loop, &tick) == 0);
    BrokerOptions o;
    o.name = "engine";
    o.agent_id = "agent-1";
    o.stream_id = 0xabc;
    o.backoff_min = 5ms;
    o.backoff_max = 10ms;
    o.max_inflight_batches = max_inflight_batches;
    o.ack_timeout = ack_timeout;
    output = std::make_unique<BrokerOutput>(&loop, o, std::make_unique<FakeClient>(engine));
    shipper.output = output.get();
    shipper.total = batches;
  }
  void start() { REQUIRE(output->start(shipper).is_ok()); }
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
  // Runs the loop for a while, for what must not happen.
  void run_for(std::chrono::milliseconds how_long) {
    auto until = std::chrono::steady_clock::now() + how_long;
    run_until([&] { return std::chrono::steady_clock::now() >= until; });
  }
  ~Harness() {
    bool closed = false;
    output->close([&] { closed = true; });
    uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(closed);
    output.reset();
    CHECK(uv_loop_close(&loop) == 0);
  }
  uv_loop_t loop{};
  uv_timer_t tick{};
  std::shared_ptr<FakeEngine> engine = std::make_shared<FakeEngine>();
  std::unique_ptr<BrokerOutput> output;
  Shipper shipper;
};

TEST_CASE("broker output: batches are acknowledged in seq order whatever order the engine confirms",
          "[broker]") {
  Harness h(3);
  h.start();
  REQUIRE(h.run_until([&] { return h.engine->published() == 3; }));
  h.engine->finish(2);
  h.engine->finish(1);
  h.run_for(50ms);
  CHECK(h.shipper.acked == 0);  // batch 1 is not stored yet
  h.engine->finish(0);
  REQUIRE(h.run_until([&] { return h.shipper.acked == 3; }));
  // The engine gets the JSON lines assas-ingest writes, with the agent id the output was given.
  std::lock_guard lock(h.engine->mutex);
  const std::string& json = h.engine->publishes[0].json;
  CHECK(json.find("\"agent\":\"agent-1\"") != std::string::npos);
  CHECK(json.find("\"message\":\"m1.2\"") != std::string::npos);
  CHECK(std::count(json.begin(), json.end(), '\n') == 3);
  CHECK(h.output->stats().bytes_sent > 0);
}

TEST_CASE("broker output: a failed publish ends the session and late outcomes of it are ignored",
          "[broker]") {
  Harness h(3);
  h.start();
  REQUIRE(h.run_until([&] { return h.engine->published() == 3; }));
  h.engine->finish(0);
  REQUIRE(h.run_until([&] { return h.shipper.acked == 1; }));
  h.engine->finish(1, unavailable("NOT_ENOUGH_REPLICAS"));
  REQUIRE(h.run_until([&] { return h.shipper.disconnected == 1; }));
  CHECK(h.shipper.last_error.find("NOT_ENOUGH_REPLICAS") != std::string::npos);
  // Reconnected, and batches 2 and 3 published again.
  REQUIRE(h.run_until([&] { return h.engine->published() == 5; }));
  CHECK(h.shipper.connected == 2);
  h.engine->finish(2);  // batch 3 of the first session: stored, but that session was given up
  h.run_for(50ms);
  CHECK(h.shipper.acked == 1);
  {
    std::lock_guard lock(h.engine->mutex);
    CHECK(h.engine->publishes[3].seq == 2);
    CHECK(h.engine->publishes[4].seq == 3);
  }
  h.engine->finish(3);
  h.engine->finish(4);
  REQUIRE(h.run_until([&] { return h.shipper.acked == 3; }));
  OutputStats stats = h.output->stats();
  CHECK(stats.connects == 2);
  CHECK(stats.disconnects == 1);
  CHECK(stats.inflight_batches == 0);
}

TEST_CASE("broker output: at most max_inflight_batches are unacknowledged", "[broker]") {
  Harness h(5, 2);
  h.start();
  REQUIRE(h.run_until([&] { return h.engine->published() == 2; }));
  h.run_for(50ms);
  CHECK(h.engine->published() == 2);
  CHECK(h.output->stats().inflight_batches == 2);
  h.engine->finish(0);
  REQUIRE(h.run_until([&] { return h.engine->published() == 3; }));
  h.engine->finish(1);
  h.engine->finish(2);
  REQUIRE(h.run_until([&] { return h.engine->published() == 5; }));
  h.engine->finish(3);
  h.engine->finish(4);
  REQUIRE(h.run_until([&] { return h.shipper.acked == 5; }));
}

TEST_CASE("broker output: connect failures are retried after a backoff and counted", "[broker]") {
  Harness h(1);
  h.engine->refuse_connects = 2;
  h.start();
  REQUIRE(h.run_until([&] { return h.engine->published() == 1; }));
  CHECK(h.output->stats().connect_failures == 2);
  CHECK(h.output->stats().connected);
  h.engine->finish(0);
  REQUIRE(h.run_until([&] { return h.shipper.acked == 1; }));
}

TEST_CASE("broker output: an engine that confirms nothing for ack_timeout ends the session",
          "[broker]") {
  Harness h(1, 64, 200ms);
  h.start();
  REQUIRE(h.run_until([&] { return h.shipper.disconnected == 1; }));
  CHECK(h.shipper.last_error.find("ack_timeout") != std::string::npos);
  CHECK(h.output->stats().heartbeat_timeouts == 1);
  REQUIRE(h.run_until([&] { return h.engine->published() == 2; }));  // sent again
}

TEST_CASE("broker output: an event larger than the engine takes is left out and counted",
          "[broker]") {
  Harness h(2);
  h.engine->max_event = 1000;  // each event is about 160 bytes of JSON
  h.shipper.per_batch = 2;
  h.start();
  REQUIRE(h.run_until([&] { return h.engine->published() == 2; }));
  {
    std::lock_guard lock(h.engine->mutex);
    CHECK(std::count(h.engine->publishes[0].json.begin(), h.engine->publishes[0].json.end(),
                     '\n') == 2);
  }
  h.engine->finish(0);
  h.engine->finish(1);
  REQUIRE(h.run_until([&] { return h.shipper.acked == 2; }));
  CHECK(h.output->stats().events_too_large == 0);
  h.engine->max_event = 10;  // every event is now too large: left out, the batches still go
  h.shipper.total = 3;
  h.shipper.pump();
  REQUIRE(h.run_until([&] { return h.engine->published() == 3; }));
  {
    std::lock_guard lock(h.engine->mutex);
    CHECK(h.engine->publishes[2].json.empty());
  }
  h.engine->finish(2);
  REQUIRE(h.run_until([&] { return h.shipper.acked == 3; }));
  CHECK(h.output->stats().events_too_large == 2);
}

TEST_CASE("broker output: message ids name the agent the stream the seq and the event",
          "[broker]") {
  CHECK(broker_message_id("gw-7", 0xabc, 42) == "gw-7:0000000000000abc:42");
  CHECK(broker_message_id("gw-7", 0xabc, 42, 3) == "gw-7:0000000000000abc:42:3");
}

}  // namespace
}  // namespace assas::transport
