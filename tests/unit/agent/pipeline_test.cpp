// Pipeline and Delivery (shippers) together over a real DiskBuffer, CheckpointStore and Worker; the
// outputs and the collector are small fakes (the real ones are tested in their own suites and end
// to end).

#include "agent/pipeline/pipeline.h"

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "agent/delivery.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/agent/buffer_test_support.h"

namespace assas::agent {
namespace {

using test::run_until;

class FakeOutput final : public transport::Output {
 public:
  const std::string& name() const override { return name_; }
  Status start(transport::OutputListener& listener) override {
    listener_ = &listener;
    return Status::ok();
  }
  bool can_send() const override { return connected && sent.size() - acked_count_ < window; }
  void send(transport::OutgoingBatch batch) override { sent.push_back(std::move(batch)); }
  void close(std::function<void()> on_closed) override { on_closed(); }
  transport::OutputStats stats() const override { return {}; }

  void writable() { listener_->on_writable(); }
  void connect(uint64_t stored_upto) {
    connected = true;
    sent.clear();
    acked_count_ = 0;
    connect_status = listener_->on_connected(stored_upto);
  }
  void ack(uint64_t upto) {
    while (acked_count_ < sent.size() && sent[acked_count_].seq <= upto) {
      ++acked_count_;
    }
    listener_->on_acked(upto);
  }
  void disconnect() {
    connected = false;
    listener_->on_disconnected(unavailable("test"));
  }

  std::vector<transport::OutgoingBatch> sent;
  Status connect_status;
  bool connected = false;
  size_t window = 100;

 private:
  std::string name_ = "fake";
  transport::OutputListener* listener_ = nullptr;
  size_t acked_count_ = 0;
};

class FakeCollector final : public Collector {
 public:
  const std::string& name() const override { return name_; }
  Status start(EventSink&, const PositionMap&) override { return Status::ok(); }
  void pause(PauseReason why) override { ++pauses[static_cast<int>(why)]; }
  void resume(PauseReason why) override { ++resumes[static_cast<int>(why)]; }
  void close(std::function<void()> on_closed) override { on_closed(); }
  int pauses[kPauseReasonCount] = {};
  int resumes[kPauseReasonCount] = {};

 private:
  std::string name_ = "fake";
};

// What the core is made of: buffer size, batch size, cache, when_full, and the lanes of each output
// (one entry per output).
struct CoreSpec {
  uint64_t buffer_max = 64 << 20;
  uint32_t max_events = 10;
  uint64_t cache_bytes = 8 << 20;
  WhenFull when_full = WhenFull::kBlock;
  std::vector<uint32_t> lanes = {1};
  uint64_t max_behind = 0;  // for every output
};

std::vector<OutputLanes> make_fake_outputs(const CoreSpec& spec,
                                           std::vector<std::vector<FakeOutput*>>& fakes) {
  std::vector<OutputLanes> outputs;
  for (size_t i = 0; i < spec.lanes.size(); ++i) {
    OutputLanes& o = outputs.emplace_back();
    o.name = "out" + std::to_string(i);
    o.max_behind_bytes = spec.max_behind;
    fakes.emplace_back();
    for (uint32_t lane = 0; lane < spec.lanes[i]; ++lane) {
      auto fake = std::make_unique<FakeOutput>();
      fakes.back().push_back(fake.get());
      o.lanes.push_back(std::move(fake));
    }
  }
  return outputs;
}

// The whole agent core on one loop.
struct Core {
  explicit Core(uint64_t buffer_max = 64 << 20, uint32_t max_events = 10,
                uint64_t cache_bytes = 8 << 20)
      : Core(CoreSpec{buffer_max, max_events, cache_bytes}) {}
  explicit Core(const CoreSpec& spec) {
    uint64_t buffer_max = spec.buffer_max;
    uint32_t max_events = spec.max_events;
    uint64_t cache_bytes = spec.cache_bytes;
    DiskBufferOptions options;
    options.cache_bytes = cache_bytes;
    options.dir = dir.file("buffer");
    options.max_size_bytes = buffer_max;
    options.segment_size_bytes = 4096;
    buffer = harness.open(options);
    store = std::move(CheckpointStore::open(dir.file("checkpoints"), harness.worker())).value();
    PipelineOptions p;
    p.limits.max_events = max_events;
    p.limits.max_delay = std::chrono::milliseconds(5);
    p.host = "test-host";
    p.first_seq = buffer->last_seq() + 1;
    p.when_full = spec.when_full;
    pipeline = std::make_unique<Pipeline>(harness.loop(), harness.worker(), *buffer, *store, p);
    pipeline->add_collector(&collector);
    delivery = std::make_unique<Delivery>(*buffer, make_fake_outputs(spec, fakes), 0);
    pipeline->set_on_durable([this](uint64_t seq) { delivery->on_durable(seq); });
    pipeline->set_drop_oldest([this] { return delivery->drop_oldest(); });
    delivery->set_on_released([this] { pipeline->on_buffer_space(); });
    store->set_on_persisted([this](uint64_t seq) { delivery->on_checkpointed(seq); });
    REQUIRE(delivery->start().is_ok());
  }

  FakeOutput& output_of(size_t i, size_t lane = 0) { return *fakes.at(i).at(lane); }
  FakeOutput& output() { return output_of(0); }
  DeliveryOutputStats stats_of(size_t i) { return delivery->stats().at(i); }
  // Waits until every batch pushed is durable and checkpointed.
  void settle() {
    run_until(harness.loop(), [&] { return pipeline->idle(); });
    run_until(harness.loop(), [&] { return store->persisted_seq() >= buffer->durable_seq(); });
  }

  // Pushes n lines of stream; returns how many were taken.
  int push_lines(int n, int first = 0) {
    for (int i = first; i < first + n; ++i) {
      line_text = "line " + std::to_string(i);
      Event e;
      e.time_ns = i;
      e.offset = static_cast<uint64_t>(i) * 10;
      e.message = line_text;
      e.next.offset = static_cast<uint64_t>(i + 1) * 10;
      if (!pipeline->push(stream, e)) {
        return i - first;
      }
    }
    return n;
  }

  void finish() {
    bool delivery_closed = false;
    delivery->close([&] { delivery_closed = true; });
    REQUIRE(delivery_closed);
    bool done = false;
    pipeline->shutdown([&] { done = true; });
    run_until(harness.loop(), [&] { return done; });
    bool store_closed = false;
    store->close([&] { store_closed = true; });
    run_until(harness.loop(), [&] { return store_closed; });
    harness.close(buffer);
    harness.finish();
  }

  assas::test::TempDir dir;
  test::LoopHarness harness;
  std::unique_ptr<DiskBuffer> buffer;
  std::unique_ptr<CheckpointStore> store;
  std::unique_ptr<Pipeline> pipeline;
  std::vector<std::vector<FakeOutput*>> fakes;  // owned by the delivery
  std::unique_ptr<Delivery> delivery;
  FakeCollector collector;
  StreamPtr stream =
      std::make_shared<const Stream>(Stream{"files", "/var/log/a.log", "file:files:1:2", {}});
  std::string line_text;
};

}  // namespace

TEST_CASE("pushed events become durable batches whose positions are checkpointed", "[pipeline]") {
  Core core;
  REQUIRE(core.push_lines(25) == 25);
  run_until(core.harness.loop(), [&] { return core.buffer->durable_seq() == 3; });
  run_until(core.harness.loop(), [&] { return core.store->persisted_seq() == 3; });
  REQUIRE(core.store->positions().at("file:files:1:2").offset == 250);
  REQUIRE(core.pipeline->stats().batches_durable == 3);
  REQUIRE(core.pipeline->stats().events_in == 25);
  core.finish();
}

TEST_CASE("a batch leaves the buffer only once acknowledged and checkpointed", "[pipeline]") {
  Core core;
  core.output().connect(0);
  REQUIRE(core.push_lines(20) == 20);
  run_until(core.harness.loop(), [&] { return core.output().sent.size() == 2; });
  REQUIRE(core.output().sent[0].seq == 1);
  REQUIRE(core.output().sent[1].seq == 2);
  REQUIRE(core.buffer->record_count() == 2);
  run_until(core.harness.loop(), [&] { return core.store->persisted_seq() == 2; });
  core.output().ack(1);
  REQUIRE(core.buffer->first_seq() == 2);
  core.output().ack(2);
  REQUIRE(core.buffer->record_count() == 0);
  core.finish();
}

TEST_CASE("after a reconnect every unacknowledged batch is sent again, from what the receiver has",
          "[pipeline]") {
  Core core;
  core.output().connect(0);
  REQUIRE(core.push_lines(30) == 30);
  run_until(core.harness.loop(), [&] { return core.output().sent.size() == 3; });
  core.output().ack(1);
  core.output().disconnect();
  core.output().connect(1);  // the receiver stored batch 1 only
  run_until(core.harness.loop(), [&] { return core.output().sent.size() == 2; });
  REQUIRE(core.output().sent[0].seq == 2);
  REQUIRE(core.output().sent[1].seq == 3);
  // The payload sent again is the same batch, byte for byte.
  std::string first_payload = *core.output().sent[0].payload;
  core.output().disconnect();
  core.output().connect(1);
  run_until(core.harness.loop(), [&] { return core.output().sent.size() == 2; });
  REQUIRE(*core.output().sent[0].payload == first_payload);
  REQUIRE(core.stats_of(0).shipping.reconnects == 2);
  core.finish();
}

TEST_CASE("a receiver that claims a seq this agent never made is refused and nothing is released",
          "[pipeline]") {
  Core core;
  REQUIRE(core.push_lines(30) == 30);
  core.settle();
  core.output().connect(1000);
  REQUIRE(core.output().connect_status.code() == StatusCode::kCorruption);
  REQUIRE(core.output().sent.empty());
  REQUIRE(core.buffer->record_count() == 3);
  core.output().connect(2);  // an honest receiver later gets the rest
  run_until(core.harness.loop(), [&] { return core.output().sent.size() == 1; });
  REQUIRE(core.output().sent[0].seq == 3);
  core.finish();
}

TEST_CASE("a batch damaged on disk after it was written is skipped and counted and the rest ships",
          "[pipeline]") {
  Core core(64 << 20, 10, /*cache_bytes=*/0);  // no cache: every batch is read back from disk
  REQUIRE(core.push_lines(30) == 30);
  run_until(core.harness.loop(), [&] { return core.buffer->durable_seq() == 3; });
  // Flip one payload byte of the second record ("AASR" starts each record).
  std::string segment;
  for (const auto& entry : std::filesystem::directory_iterator(core.dir.file("buffer"))) {
    if (entry.path().extension() == ".seg") {
      segment = entry.path();
    }
  }
  std::string bytes = assas::test::read_text_file(segment);
  size_t second = bytes.find("AASR", bytes.find("AASR") + 4);
  REQUIRE(second != std::string::npos);
  size_t end_of_second = bytes.find("AASR", second + 4);
  REQUIRE(end_of_second != std::string::npos);
  bytes[end_of_second - 2] = static_cast<char>(bytes[end_of_second - 2] ^ 0x40);
  std::fstream(segment, std::ios::in | std::ios::out | std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));

  core.output().connect(0);
  run_until(core.harness.loop(), [&] { return core.output().sent.size() == 2; });
  REQUIRE(core.output().sent[0].seq == 1);
  REQUIRE(core.output().sent[1].seq == 3);
  REQUIRE(core.stats_of(0).shipping.corrupt_batches_skipped == 1);
  // The receiver is told that the agent lost batch 2: batch 3 continues it (issue 10).
  REQUIRE(core.output().sent[0].chain.flags == transport::BatchChain::kChained);
  REQUIRE(core.output().sent[1].chain.prev_seq == 2);
  REQUIRE(core.output().sent[1].chain.flags ==
          (transport::BatchChain::kChained | transport::BatchChain::kAgentLost));
  run_until(core.harness.loop(), [&] { return core.store->persisted_seq() == 3; });
  core.output().ack(3);  // the receiver's cumulative ack covers the skipped seq too
  REQUIRE(core.buffer->record_count() == 0);
  core.finish();
}

TEST_CASE("a full buffer pauses the collectors, and releasing space resumes them exactly once",
          "[pipeline]") {
  Core core(/*buffer_max=*/300, /*max_events=*/5);
  core.output().connect(0);
  core.output().window = 0;  // the receiver takes nothing for now
  // Batches are tiny (a few hundred bytes), so the 300-byte buffer fills after one.
  int taken = 0;
  for (int round = 0; round < 50 && core.collector.pauses[1] == 0; ++round) {
    taken += core.push_lines(5, taken);
    run_until(core.harness.loop(),
              [&] { return core.pipeline->idle() || core.collector.pauses[1] > 0; });
  }
  REQUIRE(core.collector.pauses[static_cast<int>(PauseReason::kBufferFull)] == 1);
  REQUIRE(core.push_lines(1, taken) == 0);  // refused while paused: the collector keeps the line
  core.output().window = 100;
  core.output().writable();
  run_until(core.harness.loop(), [&] { return !core.output().sent.empty(); });
  run_until(core.harness.loop(),
            [&] { return core.store->persisted_seq() >= core.output().sent.back().seq; });
  core.output().ack(core.output().sent.back().seq);
  run_until(core.harness.loop(), [&] {
    return core.collector.resumes[static_cast<int>(PauseReason::kBufferFull)] == 1;
  });
  REQUIRE(core.collector.pauses[static_cast<int>(PauseReason::kBufferFull)] == 1);
  core.finish();
}

TEST_CASE("with two outputs a dead one does not stall the other and the buffer waits for both",
          "[pipeline][delivery]") {
  CoreSpec spec;
  spec.lanes = {1, 1};
  Core core(spec);
  core.output_of(0).connect(0);  // output 1 stays down
  REQUIRE(core.push_lines(30) == 30);
  run_until(core.harness.loop(), [&] { return core.output_of(0).sent.size() == 3; });
  core.settle();
  core.output_of(0).ack(3);
  REQUIRE(core.stats_of(0).done_upto == 3);
  REQUIRE(core.buffer->record_count() == 3);  // output 1 has none of them yet
  core.output_of(1).connect(0);
  run_until(core.harness.loop(), [&] { return core.output_of(1).sent.size() == 3; });
  core.output_of(1).ack(2);
  REQUIRE(core.buffer->first_seq() == 3);
  core.output_of(1).ack(3);
  REQUIRE(core.buffer->record_count() == 0);
  core.finish();
}

TEST_CASE("an output further behind than max_behind is cut loose and counted for itself alone",
          "[pipeline][delivery]") {
  CoreSpec spec;
  spec.lanes = {1, 1};
  spec.max_behind = 1;  // any whole segment behind is too much
  Core core(spec);
  core.output_of(0).connect(0);
  for (int i = 0; i < 200; i += 10) {  // 20 batches over several 4 KiB segments
    REQUIRE(core.push_lines(10, i) == 10);
    core.settle();
  }
  run_until(core.harness.loop(), [&] { return core.output_of(0).sent.size() == 20; });
  core.settle();
  core.output_of(0).ack(20);
  run_until(core.harness.loop(), [&] { return core.buffer->record_count() == 0; });
  DeliveryOutputStats behind = core.stats_of(1);
  REQUIRE(behind.cut_loose_batches == 20);
  REQUIRE(behind.cut_loose_events == 200);
  REQUIRE(core.stats_of(0).cut_loose_events == 0);
  // Back, it gets what comes next.
  core.output_of(1).connect(0);
  REQUIRE(core.push_lines(10, 200) == 10);
  run_until(core.harness.loop(), [&] { return core.output_of(1).sent.size() == 1; });
  REQUIRE(core.output_of(1).sent[0].seq == 21);
  core.finish();
}

TEST_CASE("loadbalance lanes each send their own seqs and the buffer waits for every lane",
          "[pipeline][delivery]") {
  CoreSpec spec;
  spec.lanes = {2};
  Core core(spec);
  core.output_of(0, 0).connect(0);
  core.output_of(0, 1).connect(0);
  REQUIRE(core.push_lines(40) == 40);
  run_until(core.harness.loop(), [&] {
    return core.output_of(0, 0).sent.size() + core.output_of(0, 1).sent.size() == 4;
  });
  core.settle();
  std::vector<uint64_t> lane0;
  std::vector<uint64_t> lane1;
  for (const auto& b : core.output_of(0, 0).sent) {
    lane0.push_back(b.seq);
  }
  for (const auto& b : core.output_of(0, 1).sent) {
    lane1.push_back(b.seq);
  }
  REQUIRE(lane0 == std::vector<uint64_t>{2, 4});
  REQUIRE(lane1 == std::vector<uint64_t>{1, 3});
  // A lane's predecessors are at the other receiver: marked as a lane, never as lost.
  for (size_t lane = 0; lane < 2; ++lane) {
    for (const auto& b : core.output_of(0, lane).sent) {
      REQUIRE(b.chain.flags == (transport::BatchChain::kChained | transport::BatchChain::kLane));
      REQUIRE(b.chain.prev_seq == b.seq - 1);
    }
  }
  core.output_of(0, 0).ack(4);
  REQUIRE(core.buffer->first_seq() == 1);  // lane 1 has acknowledged nothing
  core.output_of(0, 1).ack(1);
  REQUIRE(core.buffer->first_seq() == 3);
  core.output_of(0, 1).ack(3);
  REQUIRE(core.buffer->record_count() == 0);
  core.finish();
}

// Pushes batches of 5 lines until `rounds` are taken or the collector is paused.
int fill(Core& core, int rounds) {
  int taken = 0;
  for (int round = 0; round < rounds; ++round) {
    int n = core.push_lines(5, taken);
    taken += n;
    core.settle();
    if (n < 5) {
      break;
    }
  }
  return taken;
}

TEST_CASE("when_full drop_newest drops the batches that do not fit and counts them",
          "[pipeline][delivery]") {
  CoreSpec spec;
  spec.buffer_max = 300;
  spec.max_events = 5;
  spec.when_full = WhenFull::kDropNewest;
  Core core(spec);                 // nothing connected: nothing is ever acknowledged
  REQUIRE(fill(core, 20) == 100);  // never refused
  const PipelineStats& stats = core.pipeline->stats();
  REQUIRE(stats.dropped_newest_batches > 0);
  REQUIRE(stats.dropped_newest_events == 5 * stats.dropped_newest_batches);
  REQUIRE(stats.batches_durable + stats.dropped_newest_batches == 20);
  REQUIRE(core.collector.pauses[static_cast<int>(PauseReason::kBufferFull)] == 0);
  // The dropped lines count as read: the checkpoint is past all of them.
  REQUIRE(core.store->positions().at("file:files:1:2").offset == 1000);
  core.finish();
}

TEST_CASE("a batch sent after batches dropped by drop_newest says the agent lost them",
          "[pipeline][delivery][chain]") {
  CoreSpec spec;
  spec.buffer_max = 300;  // one batch fills it
  spec.max_events = 5;
  spec.when_full = WhenFull::kDropNewest;
  Core core(spec);
  core.output().connect(0);
  core.output().window = 0;  // nothing is sent (or freed) for now
  REQUIRE(fill(core, 4) == 20);
  REQUIRE(core.pipeline->stats().dropped_newest_batches > 0);
  core.output().window = 100;
  core.output().writable();
  run_until(core.harness.loop(), [&] { return !core.output().sent.empty(); });
  core.settle();
  uint64_t first = core.output().sent.back().seq;
  core.output().ack(first);
  run_until(core.harness.loop(), [&] { return core.buffer->record_count() == 0; });
  REQUIRE(fill(core, 1) == 5);  // fits again
  run_until(core.harness.loop(), [&] { return core.output().sent.size() == 2; });
  const transport::OutgoingBatch& next = core.output().sent[1];
  REQUIRE(next.seq > first + 1);  // the dropped batches were never sent
  REQUIRE(next.chain.prev_seq == next.seq - 1);
  REQUIRE((next.chain.flags & transport::BatchChain::kAgentLost) != 0);
  REQUIRE((core.output().sent[0].chain.flags & transport::BatchChain::kAgentLost) == 0);
  core.finish();
}

TEST_CASE("when_full drop_oldest drops the oldest segment to make room and counts it",
          "[pipeline][delivery]") {
  CoreSpec spec;
  spec.buffer_max = 16 << 10;  // four 4 KiB segments
  spec.max_events = 5;
  spec.when_full = WhenFull::kDropOldest;
  Core core(spec);
  core.output().connect(0);
  core.output().window = 0;  // the receiver takes nothing for now
  REQUIRE(fill(core, 400) == 2000);
  const PipelineStats& stats = core.pipeline->stats();
  REQUIRE(stats.dropped_oldest_batches > 0);
  REQUIRE(stats.dropped_oldest_events == 5 * stats.dropped_oldest_batches);
  REQUIRE(stats.batches_durable == 400);
  REQUIRE(core.buffer->size_bytes() <= spec.buffer_max);
  REQUIRE(core.buffer->first_seq() == stats.dropped_oldest_batches + 1);
  // What ships now starts after the dropped batches.
  core.output().window = 100;
  core.output().writable();
  run_until(core.harness.loop(), [&] { return !core.output().sent.empty(); });
  REQUIRE(core.output().sent[0].seq == stats.dropped_oldest_batches + 1);
  core.finish();
}

}  // namespace assas::agent
