// A seeded model-based test: random appends, releases, reads and restarts against a map of what
// must be in the buffer. The seed is printed on failure; ASSAS_TEST_SEED replays one.

#include <cstdlib>
#include <map>
#include <random>

#include <catch2/catch.hpp>

#include "agent/buffer/disk_buffer.h"
#include "buffer_test_support.h"
#include "tests/support/temp_dir.h"

namespace assas::agent {

TEST_CASE("random appends, releases, reads and restarts agree with a simple model", "[buffer]") {
  const char* env = std::getenv("ASSAS_TEST_SEED");
  uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device{}();
  INFO("seed " << seed << " (replay with ASSAS_TEST_SEED=" << seed << ")");
  std::mt19937_64 rng(seed);
  auto pick = [&](uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
  };

  assas::test::TempDir tmp;
  test::LoopHarness h;
  DiskBufferOptions options;
  options.dir = tmp.file("buffer");
  options.segment_size_bytes = pick(200, 4000);
  options.cache_bytes = pick(0, 3000);
  auto buffer = h.open(options);

  std::map<uint64_t, size_t> model;  // unreleased seq → payload size
  uint64_t last_seq = 0;
  uint64_t released = 0;
  for (int step = 0; step < 300; ++step) {
    CAPTURE(step);
    uint64_t op = pick(0, 9);
    if (op < 5) {  // a burst of appends, completed together
      uint64_t n = pick(1, 5);
      uint64_t done = 0;
      for (uint64_t i = 0; i < n; ++i) {
        ++last_seq;
        size_t bytes = pick(0, 600);
        model[last_seq] = bytes;
        buffer->append(test::make_record(last_seq, bytes), [&](const Status& s) {
          REQUIRE(s.is_ok());
          ++done;
        });
      }
      test::run_until(h.loop(), [&] { return done == n; });
    } else if (op < 7) {
      uint64_t upto = pick(released, last_seq);
      buffer->release(upto);
      released = std::max(released, upto);
      model.erase(model.begin(), model.upper_bound(released));
    } else if (op < 9) {
      uint64_t after = pick(released, last_seq);
      Result<BufferRecord> r = h.read_after(*buffer, after);
      auto next = model.upper_bound(after);
      if (next == model.end()) {
        REQUIRE(r.status().code() == StatusCode::kNotFound);
      } else {
        REQUIRE(r.is_ok());
        REQUIRE(r->seq == next->first);
        REQUIRE(*r->payload == *test::make_record(next->first, next->second).payload);
      }
    } else {
      h.close(buffer);
      buffer = h.open(options);
      REQUIRE(buffer->recovery().corrupt_records == 0);
      REQUIRE(buffer->last_seq() == last_seq);
      // Releases are not persisted: the shipper releases again after a restart.
      buffer->release(released);
    }
    REQUIRE(buffer->last_seq() == last_seq);
    REQUIRE(buffer->record_count() == model.size());
    REQUIRE(buffer->first_seq() == (model.empty() ? 0 : model.begin()->first));
  }
  h.close(buffer);
  h.finish();
}

}  // namespace assas::agent
