// Pipeline and Shipper together over a real DiskBuffer, CheckpointStore and Worker; the output and
// the collector are small fakes (the real ones are tested in their own suites and end to end).

#include "agent/pipeline/pipeline.h"

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "agent/shipper.h"
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

  void connect(uint64_t stored_upto) {
    connected = true;
    sent.clear();
    acked_count_ = 0;
    listener_->on_connected(stored_upto);
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

// The whole agent core on one loop.
struct Core {
  explicit Core(uint64_t buffer_max = 64 << 20, uint32_t max_events = 10,
                uint64_t cache_bytes = 8 << 20) {
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
    pipeline = std::make_unique<Pipeline>(harness.loop(), harness.worker(), *buffer, *store, p);
    pipeline->add_collector(&collector);
    shipper = std::make_unique<Shipper>(*buffer, output);
    pipeline->set_on_durable([this](uint64_t seq) { shipper->on_durable(seq); });
    shipper->set_on_released([this] { pipeline->on_buffer_space(); });
    store->set_on_persisted([this](uint64_t seq) { shipper->on_checkpointed(seq); });
    REQUIRE(output.start(*shipper).is_ok());
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
    shipper->stop();
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
  std::unique_ptr<Shipper> shipper;
  FakeOutput output;
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
  core.output.connect(0);
  REQUIRE(core.push_lines(20) == 20);
  run_until(core.harness.loop(), [&] { return core.output.sent.size() == 2; });
  REQUIRE(core.output.sent[0].seq == 1);
  REQUIRE(core.output.sent[1].seq == 2);
  REQUIRE(core.buffer->record_count() == 2);
  run_until(core.harness.loop(), [&] { return core.store->persisted_seq() == 2; });
  core.output.ack(1);
  REQUIRE(core.buffer->first_seq() == 2);
  core.output.ack(2);
  REQUIRE(core.buffer->record_count() == 0);
  core.finish();
}

TEST_CASE("after a reconnect every unacknowledged batch is sent again, from what the receiver has",
          "[pipeline]") {
  Core core;
  core.output.connect(0);
  REQUIRE(core.push_lines(30) == 30);
  run_until(core.harness.loop(), [&] { return core.output.sent.size() == 3; });
  core.output.ack(1);
  core.output.disconnect();
  core.output.connect(1);  // the receiver stored batch 1 only
  run_until(core.harness.loop(), [&] { return core.output.sent.size() == 2; });
  REQUIRE(core.output.sent[0].seq == 2);
  REQUIRE(core.output.sent[1].seq == 3);
  // The payload sent again is the same batch, byte for byte.
  std::string first_payload = *core.output.sent[0].payload;
  core.output.disconnect();
  core.output.connect(1);
  run_until(core.harness.loop(), [&] { return core.output.sent.size() == 2; });
  REQUIRE(*core.output.sent[0].payload == first_payload);
  REQUIRE(core.shipper->stats().reconnects == 2);
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

  core.output.connect(0);
  run_until(core.harness.loop(), [&] { return core.output.sent.size() == 2; });
  REQUIRE(core.output.sent[0].seq == 1);
  REQUIRE(core.output.sent[1].seq == 3);
  REQUIRE(core.shipper->stats().corrupt_batches_skipped == 1);
  run_until(core.harness.loop(), [&] { return core.store->persisted_seq() == 3; });
  core.output.ack(3);  // the receiver's cumulative ack covers the skipped seq too
  REQUIRE(core.buffer->record_count() == 0);
  core.finish();
}

TEST_CASE("a full buffer pauses the collectors, and releasing space resumes them exactly once",
          "[pipeline]") {
  Core core(/*buffer_max=*/300, /*max_events=*/5);
  core.output.connect(0);
  core.output.window = 0;  // the receiver takes nothing for now
  // Batches are tiny (a few hundred bytes), so the 300-byte buffer fills after one.
  int taken = 0;
  for (int round = 0; round < 50 && core.collector.pauses[1] == 0; ++round) {
    taken += core.push_lines(5, taken);
    run_until(core.harness.loop(),
              [&] { return core.pipeline->idle() || core.collector.pauses[1] > 0; });
  }
  REQUIRE(core.collector.pauses[static_cast<int>(PauseReason::kBufferFull)] == 1);
  REQUIRE(core.push_lines(1, taken) == 0);  // refused while paused: the collector keeps the line
  core.output.window = 100;
  core.shipper->on_writable();
  run_until(core.harness.loop(), [&] { return !core.output.sent.empty(); });
  run_until(core.harness.loop(),
            [&] { return core.store->persisted_seq() >= core.output.sent.back().seq; });
  core.output.ack(core.output.sent.back().seq);
  run_until(core.harness.loop(), [&] {
    return core.collector.resumes[static_cast<int>(PauseReason::kBufferFull)] == 1;
  });
  REQUIRE(core.collector.pauses[static_cast<int>(PauseReason::kBufferFull)] == 1);
  core.finish();
}

}  // namespace assas::agent
