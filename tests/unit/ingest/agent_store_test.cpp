// The receiver's store on a real filesystem: de-duplication, the committed state, rotation, and
// refusal of what it cannot trust.

#include "ingest/agent_store.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "base/crc32c.h"
#include "tests/support/jsonl_reader.h"
#include "tests/support/temp_dir.h"
#include "transport/protocol/batch_codec.h"
#include "transport/protocol/compression.h"

namespace assas::ingest {
namespace {

using assas::test::read_text_file;
using assas::test::TempDir;

// A real zstd batch of n events "<seq>-<i>" (or the given messages).
ReceivedBatch make_batch(uint64_t seq, int n, std::vector<std::string> messages = {}) {
  if (messages.empty()) {
    for (int i = 0; i < n; ++i) {
      messages.push_back(std::to_string(seq) + "-" + std::to_string(i));
    }
  }
  transport::BatchEncoder encoder;
  std::vector<transport::Field> fields{{"service", "test"}};
  uint32_t stream = encoder.add_stream("files", "/var/log/app.log", fields);
  for (size_t i = 0; i < messages.size(); ++i) {
    encoder.add_event(1, stream, seq * 1000 + i, messages[i]);
  }
  std::string raw = encoder.finish("host-1");
  transport::Compressor compressor(3);
  std::string compressed;
  REQUIRE(compressor.compress(transport::Codec::kZstd, raw, compressed).is_ok());
  ReceivedBatch batch;
  batch.seq = seq;
  batch.event_count = static_cast<uint32_t>(messages.size());
  batch.raw_size = static_cast<uint32_t>(raw.size());
  batch.codec = transport::Codec::kZstd;
  batch.payload = compressed;
  return batch;
}

std::unique_ptr<AgentStore> open_store(const TempDir& dir, StoreLimits limits = {}) {
  Result<std::unique_ptr<AgentStore>> store = AgentStore::open(dir.path(), "web-01", limits);
  INFO(store.status().to_string());
  REQUIRE(store.is_ok());
  return std::move(store).value();
}

Result<WriteOutcome> write(AgentStore& store, uint64_t stream, std::vector<ReceivedBatch> batches) {
  return store.write(stream, batches);
}

// Every stored message, in file order across rotated files.
std::vector<std::string> messages(const TempDir& dir) {
  std::vector<std::string> out;
  for (const std::string& line :
       assas::test::read_lines_of(dir.path() + "/web-01/events-*.jsonl")) {
    out.push_back(assas::test::parse_json_object(line)["message"]);
  }
  return out;
}

std::string events_file(const TempDir& dir, int index) {
  char name[32];
  std::snprintf(name, sizeof name, "events-%08d.jsonl", index);
  return dir.path() + "/web-01/" + name;
}

}  // namespace

TEST_CASE("identities are refused unless they are safe as a directory name", "[store]") {
  for (std::string_view good : {"web-01", "gw_07.city", "A"}) {
    REQUIRE(is_safe_identity(good));
  }
  REQUIRE(is_safe_identity(std::string(128, 'a')));
  const std::vector<std::string_view> bad_ones{
      "",           "..", ".hidden", "a/b", "a..b", "web 01", "tab\t", std::string_view("nul\0", 4),
      "caf\xc3\xa9"};
  for (std::string_view bad : bad_ones) {
    INFO("identity: " << bad);
    REQUIRE_FALSE(is_safe_identity(bad));
  }
  REQUIRE_FALSE(is_safe_identity(std::string(129, 'a')));
}

TEST_CASE("batches are stored once and a resent batch is dropped and acknowledged again",
          "[store]") {
  TempDir dir;
  auto store = open_store(dir);
  REQUIRE(store->stored_upto(7) == 0);
  Result<WriteOutcome> first = write(*store, 7, {make_batch(1, 2), make_batch(2, 3)});
  REQUIRE(first.is_ok());
  REQUIRE(first->stored_upto == 2);
  REQUIRE(first->events_written == 5);
  std::string before = read_text_file(events_file(dir, 1));
  Result<WriteOutcome> again = write(*store, 7, {make_batch(2, 3), make_batch(3, 1)});
  REQUIRE(again.is_ok());
  REQUIRE(again->duplicates_dropped == 1);
  REQUIRE(again->stored_upto == 3);
  REQUIRE(messages(dir) == std::vector<std::string>{"1-0", "1-1", "2-0", "2-1", "2-2", "3-0"});
  REQUIRE(read_text_file(events_file(dir, 1)).rfind(before, 0) == 0);
  // The state survives a reopen.
  store.reset();
  store = open_store(dir);
  REQUIRE(store->stored_upto(7) == 3);
  REQUIRE(write(*store, 7, {make_batch(3, 1)})->duplicates_dropped == 1);
  REQUIRE(messages(dir).size() == 6);
}

TEST_CASE("a new buffer stream restarts de-duplication at its own seqs", "[store]") {
  TempDir dir;
  auto store = open_store(dir);
  REQUIRE(write(*store, 7, {make_batch(1, 1), make_batch(2, 1)}).is_ok());
  REQUIRE(store->stored_upto(8) == 0);  // the agent's buffer was wiped: a new stream
  Result<WriteOutcome> fresh = write(*store, 8, {make_batch(1, 1, {"new-1"})});
  REQUIRE(fresh.is_ok());
  REQUIRE(fresh->stored_upto == 1);
  REQUIRE(messages(dir) == std::vector<std::string>{"1-0", "2-0", "new-1"});
}

TEST_CASE("interleaved streams (load-balancing lanes) each keep their own de-duplication",
          "[store]") {
  TempDir dir;
  {
    auto store = open_store(dir);
    REQUIRE(write(*store, 7, {make_batch(2, 1), make_batch(4, 1)}).is_ok());
    REQUIRE(write(*store, 9, {make_batch(1, 1), make_batch(3, 1)}).is_ok());
    Result<WriteOutcome> again = write(*store, 7, {make_batch(4, 1), make_batch(6, 1)});
    REQUIRE(again.is_ok());
    REQUIRE(again->duplicates_dropped == 1);
  }
  auto reopened = open_store(dir);  // the state of both survives a restart
  REQUIRE(reopened->stored_upto(7) == 6);
  REQUIRE(reopened->stored_upto(9) == 3);
  REQUIRE(write(*reopened, 9, {make_batch(3, 1), make_batch(5, 1)})->duplicates_dropped == 1);
  REQUIRE(messages(dir) == std::vector<std::string>{"2-0", "4-0", "1-0", "3-0", "6-0", "5-0"});
}

TEST_CASE("the store keeps the newest streams and forgets the oldest past its limit", "[store]") {
  TempDir dir;
  auto store = open_store(dir);
  for (uint64_t stream = 1; stream <= AgentStore::kMaxStreams + 1; ++stream) {
    REQUIRE(write(*store, stream, {make_batch(1, 1)}).is_ok());
  }
  REQUIRE(store->stored_upto(1) == 0);
  REQUIRE(store->stored_upto(2) == 1);
  REQUIRE(open_store(dir)->stored_upto(AgentStore::kMaxStreams + 1) == 1);
}

TEST_CASE("a state file of the first format (one stream) is read and carried on", "[store]") {
  TempDir dir;
  open_store(dir);  // makes the directory and an empty events file
  std::string body =
      "assas-ingest-state 1\nstream_id 7\nstored_upto 5\nfile_index 1\nfile_size 0\n";
  char crc[32];
  std::snprintf(crc, sizeof crc, "crc %08x\n", crc32c::value(body));
  std::ofstream(dir.path() + "/web-01/state", std::ios::trunc) << body << crc;
  auto store = open_store(dir);
  REQUIRE(store->stored_upto(7) == 5);
  REQUIRE(write(*store, 7, {make_batch(5, 1), make_batch(6, 1)})->duplicates_dropped == 1);
  REQUIRE(open_store(dir)->stored_upto(7) == 6);
}

TEST_CASE("bytes written after the last commit are cut off when the store opens", "[store]") {
  TempDir dir;
  auto store = open_store(dir);
  REQUIRE(write(*store, 7, {make_batch(1, 2)}).is_ok());
  store.reset();
  {
    std::ofstream torn(events_file(dir, 1), std::ios::app | std::ios::binary);
    torn << "{\"ts\":\"never acknowledged";  // a crash between write and commit
  }
  store = open_store(dir);
  REQUIRE(write(*store, 7, {make_batch(2, 1)}).is_ok());
  REQUIRE(messages(dir) == std::vector<std::string>{"1-0", "1-1", "2-0"});
}

TEST_CASE("events files without a state file are refused, not overwritten", "[store]") {
  TempDir dir;
  auto store = open_store(dir);
  REQUIRE(write(*store, 7, {make_batch(1, 1)}).is_ok());
  store.reset();
  std::filesystem::remove(dir.path() + "/web-01/state");
  Result<std::unique_ptr<AgentStore>> reopened = AgentStore::open(dir.path(), "web-01", {});
  REQUIRE_FALSE(reopened.is_ok());
  REQUIRE_THAT(reopened.status().message(),
               Catch::Contains("'" + dir.path() + "/web-01' holds events files but no state file"));
}

TEST_CASE("a damaged state file is refused with what to do about it", "[store]") {
  TempDir dir;
  auto store = open_store(dir);
  REQUIRE(write(*store, 7, {make_batch(1, 1)}).is_ok());
  store.reset();
  std::string path = dir.path() + "/web-01/state";
  std::string state = read_text_file(path);
  state[state.find("\nstream 7 1 ") + 10] = '9';  // the stored seq, under an unchanged CRC
  assas::test::write_text_file(path, state);
  Result<std::unique_ptr<AgentStore>> reopened = AgentStore::open(dir.path(), "web-01", {});
  REQUIRE_FALSE(reopened.is_ok());
  REQUIRE_THAT(reopened.status().message(),
               Catch::Contains("state file '" + path + "' is damaged") &&
                   Catch::Contains("move the file away"));
}

TEST_CASE("files rotate by size and nothing is lost or doubled across them", "[store]") {
  TempDir dir;
  StoreLimits limits;
  limits.max_file_size = 2000;
  auto store = open_store(dir, limits);
  std::vector<std::string> expected;
  for (uint64_t seq = 1; seq <= 20; ++seq) {
    REQUIRE(write(*store, 7, {make_batch(seq, 5)}).is_ok());
    for (int i = 0; i < 5; ++i) {
      expected.push_back(std::to_string(seq) + "-" + std::to_string(i));
    }
  }
  REQUIRE(std::filesystem::exists(events_file(dir, 2)));
  REQUIRE(std::filesystem::file_size(events_file(dir, 1)) <= 2000);
  REQUIRE(messages(dir) == expected);
  store.reset();
  store = open_store(dir, limits);
  REQUIRE(write(*store, 7, {make_batch(20, 5)})->duplicates_dropped == 1);
  REQUIRE(messages(dir) == expected);
}

TEST_CASE("a corrupt batch is refused and those before it stay stored, those after are not",
          "[store]") {
  ReceivedBatch bad_zstd = make_batch(2, 1);
  bad_zstd.payload[0] = static_cast<char>(bad_zstd.payload[0] ^ 0x55);  // not a zstd frame
  ReceivedBatch inflates = make_batch(2, 3);
  inflates.raw_size -= 1;  // inflates past what it declares
  ReceivedBatch too_many = make_batch(2, 1);
  too_many.event_count = 2;  // declares more events than it holds
  for (const ReceivedBatch& bad : {bad_zstd, inflates, too_many}) {
    TempDir dir;
    auto store = open_store(dir);
    Result<WriteOutcome> r = write(*store, 7, {make_batch(1, 1), bad, make_batch(3, 1)});
    REQUIRE(r.status().code() == StatusCode::kCorruption);
    REQUIRE_THAT(r.status().message(), Catch::Contains("batch 2"));
    REQUIRE(store->stored_upto(7) == 1);
    REQUIRE(messages(dir) == std::vector<std::string>{"1-0"});
  }
}

TEST_CASE("stored files are private and non-UTF-8 messages arrive as base64", "[store]") {
  TempDir dir;
  auto store = open_store(dir);
  REQUIRE(write(*store, 7, {make_batch(1, 1, {std::string("\xff\x00raw", 5)})}).is_ok());
  struct stat st {};
  REQUIRE(::stat((dir.path() + "/web-01").c_str(), &st) == 0);
  REQUIRE((st.st_mode & 0777) == 0700);
  REQUIRE(::stat(events_file(dir, 1).c_str(), &st) == 0);
  REQUIRE((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((dir.path() + "/web-01/state").c_str(), &st) == 0);
  REQUIRE((st.st_mode & 0777) == 0600);
  std::string line = read_text_file(events_file(dir, 1));
  REQUIRE_THAT(line, Catch::Contains("\"message_base64\":\"/wByYXc=\""));
}

}  // namespace assas::ingest
