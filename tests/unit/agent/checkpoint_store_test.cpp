#include "agent/checkpoint_store.h"

#include <string>
#include <vector>

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "buffer_test_support.h"
#include "tests/support/temp_dir.h"

namespace assas::agent {
namespace {

using test::LoopHarness;

std::unique_ptr<CheckpointStore> open_store(LoopHarness& h, const std::string& path) {
  Result<std::unique_ptr<CheckpointStore>> store = CheckpointStore::open(path, h.worker());
  REQUIRE(store.status().to_string() == "OK");
  return std::move(store).value();
}

void close_store(LoopHarness& h, std::unique_ptr<CheckpointStore>& store) {
  int closed = 0;
  store->close([&] { ++closed; });
  test::run_until(h.loop(), [&] { return closed > 0; });
  REQUIRE(closed == 1);
  store.reset();
}

}  // namespace

TEST_CASE("checkpoints of any bytes survive a write and a reopen", "[checkpoint]") {
  assas::test::TempDir tmp;
  LoopHarness h;
  std::string path = tmp.file("checkpoints");
  auto store = open_store(h, path);
  REQUIRE(store->positions().empty());
  REQUIRE(store->covered_seq() == 0);
  const std::string odd_id("sp ace\n%-\0\xff", 10);
  BatchPositions positions = {
      {"file:a", {10, ""}}, {odd_id, {7, std::string("tok en%\n\0", 9)}}, {"-", {0, "-"}}};
  store->update(3, positions);
  std::vector<uint64_t> persisted;
  store->set_on_persisted([&](uint64_t seq) { persisted.push_back(seq); });
  close_store(h, store);
  REQUIRE(persisted == std::vector<uint64_t>{3});
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  REQUIRE((st.st_mode & 0777) == 0600);

  store = open_store(h, path);
  REQUIRE(store->covered_seq() == 3);
  REQUIRE(store->persisted_seq() == 3);
  REQUIRE(store->positions().size() == 3);
  for (const auto& [id, position] : positions) {
    REQUIRE(store->positions().at(id) == position);
  }
  close_store(h, store);
  h.finish();
}

TEST_CASE("checkpoint writes are coalesced and the last update wins", "[checkpoint]") {
  assas::test::TempDir tmp;
  LoopHarness h;
  std::string path = tmp.file("checkpoints");
  auto store = open_store(h, path);
  std::vector<uint64_t> persisted;
  store->set_on_persisted([&](uint64_t seq) { persisted.push_back(seq); });
  for (uint64_t seq = 1; seq <= 100; ++seq) {
    store->update(seq, {{"file:a", {seq * 10, ""}}});
  }
  test::run_until(h.loop(), [&] { return store->persisted_seq() == 100; });
  // One write for the first update, one carrying the 99 that came while it was in flight.
  REQUIRE(persisted == std::vector<uint64_t>{1, 100});
  close_store(h, store);
  REQUIRE(persisted.size() == 2);  // nothing pending, so close writes nothing
  store = open_store(h, path);
  REQUIRE(store->positions().at("file:a").offset == 1000);
  close_store(h, store);
  h.finish();
}

TEST_CASE("a corrupt checkpoint file is refused with the file and the fix named", "[checkpoint]") {
  assas::test::TempDir tmp;
  LoopHarness h;
  std::string path = tmp.file("checkpoints");
  auto store = open_store(h, path);
  store->update(1, {{"file:a", {12345, ""}}});
  close_store(h, store);
  std::string good = assas::test::read_text_file(path);
  REQUIRE(good.find("12345") != std::string::npos);

  std::string flipped = good;
  flipped[good.find("12345")] = '9';
  for (const std::string& bad : {flipped, std::string("garbage"), good.substr(0, good.size() - 3),
                                 std::string("assas-checkpoints 1\ncovered_seq x\n")}) {
    assas::test::write_text_file(path, bad);
    Result<std::unique_ptr<CheckpointStore>> result = CheckpointStore::open(path, h.worker());
    REQUIRE_FALSE(result.is_ok());
    REQUIRE(result.status().code() == StatusCode::kCorruption);
    CAPTURE(result.status().message());
    REQUIRE(result.status().message().find(path) != std::string::npos);
    REQUIRE(result.status().message().find(
                "remove it to re-read sources from their configured start") != std::string::npos);
  }
  h.finish();
}

TEST_CASE("buffered positions newer than the checkpoint file win, in seq order", "[checkpoint]") {
  assas::test::TempDir tmp;
  LoopHarness h;
  std::string path = tmp.file("checkpoints");
  auto store = open_store(h, path);
  store->update(5, {{"a", {50, ""}}, {"c", {5, ""}}});
  close_store(h, store);

  store = open_store(h, path);
  RecoveryReport report;
  report.positions_by_seq = {{3, {{"a", {1, ""}}, {"c", {3, ""}}}},
                             {7, {{"a", {70, "t7"}}, {"b", {7, ""}}}},
                             {9, {{"b", {9, ""}}}}};
  store->merge_buffer_positions(report);
  REQUIRE(store->covered_seq() == 9);
  REQUIRE(store->positions().at("a") == SourcePosition{70, "t7"});
  REQUIRE(store->positions().at("b").offset == 9);
  REQUIRE(store->positions().at("c").offset == 5);  // seq 3 is older than the file
  test::run_until(h.loop(), [&] { return store->persisted_seq() == 9; });

  store->retain_if([](const std::string& id) { return id != "c"; });
  close_store(h, store);
  store = open_store(h, path);
  REQUIRE(store->positions().size() == 2);
  REQUIRE(store->positions().count("c") == 0);
  close_store(h, store);
  h.finish();
}

}  // namespace assas::agent
