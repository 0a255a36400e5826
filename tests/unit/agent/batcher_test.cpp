#include "agent/pipeline/batcher.h"

#include <catch2/catch.hpp>

namespace assas::agent {

namespace {

using namespace std::chrono_literals;

StreamPtr make_stream(const std::string& path) {
  return std::make_shared<const Stream>(Stream{"files", path, "file:files:" + path, {}});
}

Event line(std::string_view text, uint64_t offset) {
  Event e;
  e.time_ns = 1;
  e.offset = offset;
  e.message = text;
  e.next.offset = offset + text.size() + 1;
  return e;
}

}  // namespace

TEST_CASE("a batch is due when it reaches its event count", "[batcher]") {
  Batcher b(BatchLimits{3, 1 << 20, 1s});
  auto s = make_stream("/a");
  Batcher::TimePoint t0{};
  b.add(s, line("x", 0), t0);
  b.add(s, line("y", 2), t0);
  REQUIRE_FALSE(b.due(t0));
  b.add(s, line("z", 4), t0);
  REQUIRE(b.full());
  REQUIRE(b.due(t0));
}

TEST_CASE("a batch is due when it reaches its byte size", "[batcher]") {
  Batcher b(BatchLimits{1000, 4096, 1s});
  auto s = make_stream("/a");
  std::string big(1500, 'x');
  Batcher::TimePoint t0{};
  b.add(s, line(big, 0), t0);
  b.add(s, line(big, 1501), t0);
  REQUIRE_FALSE(b.full());
  b.add(s, line(big, 3002), t0);
  REQUIRE(b.full());
}

TEST_CASE("a batch is due max_delay after its first event, not its last", "[batcher]") {
  Batcher b(BatchLimits{1000, 1 << 20, 200ms});
  auto s = make_stream("/a");
  Batcher::TimePoint t0{};
  b.add(s, line("a", 0), t0);
  b.add(s, line("b", 2), t0 + 150ms);
  REQUIRE_FALSE(b.due(t0 + 199ms));
  REQUIRE(b.due(t0 + 200ms));
  REQUIRE_FALSE(Batcher(BatchLimits{}).due(t0 + 1h));  // an empty batch is never due
}

TEST_CASE("a taken batch records the last position of each source and decodes back", "[batcher]") {
  Batcher b(BatchLimits{});
  auto a = make_stream("/a");
  auto c = make_stream("/c");
  Batcher::TimePoint t0{};
  b.add(a, line("a1", 0), t0);
  b.add(c, line("c1", 0), t0);
  b.add(a, line("a2", 3), t0);
  RawBatch batch = b.take("host-1");
  REQUIRE(b.empty());
  REQUIRE(batch.event_count == 3);
  REQUIRE(batch.positions.size() == 2);
  REQUIRE(batch.positions[0].first == "file:files:/a");
  REQUIRE(batch.positions[0].second.offset == 6);
  REQUIRE(batch.positions[1].second.offset == 3);
  std::vector<std::string> messages;
  Status s = transport::decode_batch(batch.raw, 10, [&](const auto& h, const auto& e) {
    REQUIRE(h.host == "host-1");
    messages.emplace_back(std::string(e.stream->source) + ":" + std::string(e.message));
  });
  REQUIRE(s.is_ok());
  REQUIRE(messages == std::vector<std::string>{"/a:a1", "/c:c1", "/a:a2"});
}

}  // namespace assas::agent
