// Verification on receipt (docs/integrity.md, "At assas-ingest"): the store computes each batch's
// link from its events, judges it against its stream's head, checks its signature with the
// agent's certificate, always stores the events, and records the verdict in the chain file.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "base/crc32c.h"
#include "ingest/agent_store.h"
#include "ingest/chain_record.h"
#include "tests/support/jsonl_reader.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "transport/protocol/batch_codec.h"
#include "transport/protocol/chain.h"
#include "transport/protocol/compression.h"
#include "transport/tls/chain_signer.h"

namespace assas::ingest {
namespace {

using assas::test::read_text_file;
using assas::test::TempDir;
using transport::BatchChain;
using transport::Digest;

constexpr uint64_t kStream = 0x9f3c00000000beefULL;

// The test PKI, made once for the whole run (openssl is slow).
const assas::test::TestPki& pki() {
  static TempDir dir("assas-chain-pki");
  static assas::test::TestPki made = assas::test::make_test_pki(dir.file("pki"), "web-01");
  return made;
}

std::shared_ptr<const AgentKey> agent_key() {
  Result<std::shared_ptr<const AgentKey>> key =
      AgentKey::from_pem(read_text_file(pki().client_cert()));
  REQUIRE(key.is_ok());
  return *key;
}

std::unique_ptr<transport::ChainSigner> signer_from(const std::string& key_path) {
  auto signer = transport::ChainSigner::from_key_file(key_path);
  REQUIRE(signer.is_ok());
  return std::move(signer).value();
}

// A batch as an agent sends it: n events "<seq>-<i>", chained to (prev_seq, prev_link), its link
// computed as the agent does (transport::hash_batch), and signed when signer is given.
struct Sent {
  ReceivedBatch batch;
  Digest link{};
};

Sent send(uint64_t seq, int n, uint64_t prev_seq, const Digest& prev_link,
          uint8_t flags = BatchChain::kChained, const transport::ChainSigner* signer = nullptr) {
  transport::BatchEncoder encoder;
  std::vector<transport::Field> fields{{"service", "test"}};
  uint32_t stream = encoder.add_stream("files", "/var/log/app.log", fields);
  for (int i = 0; i < n; ++i) {
    const std::string index = std::to_string(i);  // the views below point into it
    std::vector<transport::FieldView> own{{"i", index}};
    encoder.add_event(1764000000000000000 + static_cast<int64_t>(seq), stream, seq * 1000 + i,
                      std::to_string(seq) + "-" + std::to_string(i), own);
  }
  std::string raw = encoder.finish("host-1");
  Result<transport::BatchContent> content = transport::hash_batch(raw, 1000);
  REQUIRE(content.is_ok());
  transport::Compressor compressor(3);
  Sent out;
  REQUIRE(compressor.compress(transport::Codec::kZstd, raw, out.batch.payload).is_ok());
  out.batch.seq = seq;
  out.batch.event_count = static_cast<uint32_t>(n);
  out.batch.raw_size = static_cast<uint32_t>(raw.size());
  out.batch.codec = transport::Codec::kZstd;
  out.batch.chain.flags = flags;
  out.batch.chain.prev_seq = prev_seq;
  out.batch.chain.prev_link = prev_link;
  out.batch.signer = agent_key();
  out.link = transport::chain_link(seq, prev_seq, prev_link, content->events, content->content);
  if (signer != nullptr) {
    Result<std::string> signature = signer->sign(seq, out.link);
    REQUIRE(signature.is_ok());
    out.batch.chain.signature = *signature;
  }
  return out;
}

// The agent's side of one stream: each next() continues the chain.
struct Chain {
  uint64_t seq = 0;
  Digest link{};
  ReceivedBatch next(int n, const transport::ChainSigner* signer = nullptr) {
    Sent sent = send(seq + 1, n, seq, link, BatchChain::kChained, signer);
    seq = sent.batch.seq;
    link = sent.link;
    return std::move(sent.batch);
  }
};

std::unique_ptr<AgentStore> open_store(const TempDir& dir, StoreLimits limits = {}) {
  Result<std::unique_ptr<AgentStore>> store = AgentStore::open(dir.path(), "web-01", limits);
  INFO(store.status().to_string());
  REQUIRE(store.is_ok());
  return std::move(store).value();
}

void write_ok(AgentStore& store, std::vector<ReceivedBatch> batches) {
  Result<WriteOutcome> r = store.write(kStream, batches);
  INFO(r.status().to_string());
  REQUIRE(r.is_ok());
}

std::string agent_file(const TempDir& dir, const char* name) {
  return dir.path() + "/web-01/" + name;
}

// The records of a chain file, after checking its header.
std::vector<ChainRecord> records(const TempDir& dir, const char* name = "events-00000001.chain") {
  std::string text = read_text_file(agent_file(dir, name));
  REQUIRE(text.rfind(std::string(kChainFileHeader), 0) == 0);
  std::vector<ChainRecord> out;
  size_t at = kChainFileHeader.size();
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    REQUIRE(end != std::string::npos);
    Result<ChainRecord> record = parse_chain_record(std::string_view(text).substr(at, end - at));
    INFO(record.status().to_string());
    REQUIRE(record.is_ok());
    out.push_back(std::move(record).value());
    at = end + 1;
  }
  return out;
}

std::vector<std::string> statuses(const TempDir& dir) {
  std::vector<std::string> out;
  for (const ChainRecord& record : records(dir)) {
    out.push_back(record.status);
  }
  return out;
}

std::vector<std::string> messages(const TempDir& dir) {
  std::vector<std::string> out;
  for (const std::string& line :
       assas::test::read_lines_of(dir.path() + "/web-01/events-*.jsonl")) {
    out.push_back(assas::test::parse_json_object(line)["message"]);
  }
  return out;
}

size_t status_count(const StoreCounts& counts, std::string_view word) {
  for (size_t i = 0; i < kChainStatusWords.size(); ++i) {
    if (kChainStatusWords[i] == word) {
      return counts.chain_status[i];
    }
  }
  FAIL("no such status word: " << word);
  return 0;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

}  // namespace

TEST_CASE("a continuous signed chain is stored with ok verdicts lines and its certificate",
          "[store][chain]") {
  TempDir dir;
  auto store = open_store(dir);
  auto signer = signer_from(pki().client_key());
  Chain agent;
  ReceivedBatch first = agent.next(2);
  ReceivedBatch second = agent.next(3);
  Digest second_link = agent.link;
  ReceivedBatch third = agent.next(1, signer.get());
  std::string signature = third.chain.signature;
  write_ok(*store, {first, second});
  write_ok(*store, {third});

  std::vector<ChainRecord> r = records(dir);
  REQUIRE(r.size() == 3);
  REQUIRE(statuses(dir) == std::vector<std::string>{"start", "ok", "ok"});
  REQUIRE(r[0].line == 1);
  REQUIRE(r[1].line == 3);
  REQUIRE(r[2].line == 6);
  REQUIRE(r[1].events == 3);
  REQUIRE(r[1].fingerprints.size() == 3);
  REQUIRE(r[1].link == second_link);  // the receiver's link is the agent's
  REQUIRE(r[2].prev_link == second_link);
  REQUIRE(r[2].link == agent.link);
  REQUIRE(r[2].stream == kStream);
  REQUIRE(r[2].seq == 3);
  REQUIRE(r[2].signature == signature);
  const std::string fingerprint = agent_key()->fingerprint();
  REQUIRE(r[2].cert == fingerprint);
  REQUIRE(r[0].cert.empty());
  REQUIRE(messages(dir) == std::vector<std::string>{"1-0", "1-1", "2-0", "2-1", "2-2", "3-0"});

  std::string cert_path = dir.path() + "/web-01/certs/" + fingerprint + ".pem";
  REQUIRE(read_text_file(cert_path) == agent_key()->pem());
  REQUIRE(mode_of(cert_path) == 0600);
  REQUIRE(mode_of(dir.path() + "/web-01/certs") == 0700);
  REQUIRE(mode_of(agent_file(dir, "events-00000001.chain")) == 0600);

  StoreCounts counts = store->take_counts();
  REQUIRE(counts.batches == 3);
  REQUIRE(counts.events == 6);
  REQUIRE(status_count(counts, "start") == 1);
  REQUIRE(status_count(counts, "ok") == 2);
  REQUIRE(counts.chain_breaks == 0);
  REQUIRE(counts.signatures_ok == 1);
  REQUIRE(counts.signatures_bad == 0);
  REQUIRE(store->take_counts().batches == 0);  // taken
}

TEST_CASE("a chain restart and a declared gap are recorded and missing batches are a break",
          "[store][chain]") {
  TempDir dir;
  auto store = open_store(dir);
  Chain agent;
  write_ok(*store, {agent.next(1), agent.next(1)});
  Sent restarted = send(3, 1, 0, Digest{});  // the agent lost its chain state
  Sent gap = send(5, 1, 4, Digest{}, BatchChain::kChained | BatchChain::kAgentLost);
  Sent missing = send(8, 2, 7, Digest{});  // 6 and 7 never arrived, and nobody said why
  write_ok(*store, {restarted.batch, gap.batch, missing.batch});
  REQUIRE(statuses(dir) ==
          std::vector<std::string>{"start", "ok", "restart", "gap", "break-missing"});
  REQUIRE(messages(dir) == std::vector<std::string>{"1-0", "2-0", "3-0", "5-0", "8-0", "8-1"});
  StoreCounts counts = store->take_counts();
  REQUIRE(counts.chain_breaks == 1);
  REQUIRE(status_count(counts, "break-missing") == 1);
  REQUIRE(status_count(counts, "gap") == 1);
  REQUIRE(status_count(counts, "restart") == 1);
}

TEST_CASE("a wrong prev_link and a replayed old chain are break-link and still stored",
          "[store][chain]") {
  TempDir dir;
  auto store = open_store(dir);
  Chain agent;
  ReceivedBatch one = agent.next(1);
  Digest one_link = agent.link;
  write_ok(*store, {one, agent.next(1)});
  Digest forged = agent.link;
  forged[0] ^= 1;
  Sent altered_history = send(3, 1, 2, forged);
  // A batch that continues batch 1 arrives after batch 3: someone replays an older chain.
  Sent replayed = send(4, 1, 1, one_link);
  write_ok(*store, {altered_history.batch, replayed.batch});
  REQUIRE(statuses(dir) == std::vector<std::string>{"start", "ok", "break-link", "break-link"});
  REQUIRE(messages(dir) == std::vector<std::string>{"1-0", "2-0", "3-0", "4-0"});
  // The head moved on with what was stored: the next batch continues the replayed one.
  write_ok(*store, {send(5, 1, 4, replayed.link).batch});
  REQUIRE(statuses(dir).back() == "ok");
  REQUIRE(store->take_counts().chain_breaks == 2);
}

TEST_CASE("a signature by another key is break-signature and the batch is stored",
          "[store][chain]") {
  TempDir dir;
  auto store = open_store(dir);
  auto wrong = signer_from(pki().server_key());
  Chain agent;
  ReceivedBatch first = agent.next(1);
  ReceivedBatch forged = agent.next(2, wrong.get());
  ReceivedBatch no_key = agent.next(1, signer_from(pki().client_key()).get());
  no_key.signer = nullptr;  // a connection whose certificate could not be read
  write_ok(*store, {first, forged, no_key});
  std::vector<ChainRecord> r = records(dir);
  REQUIRE(statuses(dir) ==
          std::vector<std::string>{"start", "ok+break-signature", "ok+break-signature"});
  REQUIRE(r[1].signature == forged.chain.signature);  // kept as evidence
  REQUIRE(r[1].cert.empty());
  REQUIRE(messages(dir) == std::vector<std::string>{"1-0", "2-0", "2-1", "3-0"});
  REQUIRE_FALSE(std::filesystem::exists(dir.path() + "/web-01/certs"));
  StoreCounts counts = store->take_counts();
  REQUIRE(counts.signatures_bad == 2);
  REQUIRE(counts.signatures_ok == 0);
  REQUIRE(counts.chain_breaks == 2);
  REQUIRE(status_count(counts, "ok") == 2);
  REQUIRE(status_count(counts, "break-signature") == 2);
}

TEST_CASE("unchained batches and load-balancing lanes get their own verdicts", "[store][chain]") {
  TempDir dir;
  auto store = open_store(dir);
  Sent unchained = send(1, 1, 0, Digest{}, 0);
  Sent chained = send(2, 1, 1, unchained.link);
  // A lane: its predecessor (seq 3) went to another receiver.
  Sent lane = send(4, 1, 3, Digest{}, BatchChain::kChained | BatchChain::kLane);
  Sent lane_next = send(5, 1, 4, lane.link, BatchChain::kChained | BatchChain::kLane);
  write_ok(*store, {unchained.batch, chained.batch, lane.batch, lane_next.batch});
  REQUIRE(statuses(dir) == std::vector<std::string>{"unchained", "ok", "lane", "ok"});
  REQUIRE(records(dir)[0].link == unchained.link);  // computed and kept all the same
}

TEST_CASE("duplicates and corrupt batches leave no chain record", "[store][chain]") {
  TempDir dir;
  auto store = open_store(dir);
  Chain agent;
  ReceivedBatch one = agent.next(1);
  ReceivedBatch two = agent.next(1);
  ReceivedBatch three = agent.next(1);
  write_ok(*store, {one, two});
  ReceivedBatch bad = three;
  bad.payload[0] = static_cast<char>(bad.payload[0] ^ 0x55);
  std::vector<ReceivedBatch> batches{two, bad};
  REQUIRE(store->write(kStream, batches).status().code() == StatusCode::kCorruption);
  write_ok(*store, {two, three});
  REQUIRE(statuses(dir) == std::vector<std::string>{"start", "ok", "ok"});
  REQUIRE(store->take_counts().duplicates == 2);
}

TEST_CASE("stream heads survive reopening the store in state format 3", "[store][chain]") {
  TempDir dir;
  Chain agent;
  {
    auto store = open_store(dir);
    write_ok(*store, {agent.next(1), agent.next(2)});
  }
  std::string state = read_text_file(agent_file(dir, "state"));
  REQUIRE(state.rfind("assas-ingest-state 3\n", 0) == 0);
  REQUIRE_THAT(state, Catch::Contains("\nfile_lines 3\n") &&
                          Catch::Contains("stream " + std::to_string(kStream) + " 2 " +
                                          transport::to_hex(agent.link) + "\n"));
  auto store = open_store(dir);
  write_ok(*store, {agent.next(1)});
  std::vector<ChainRecord> r = records(dir);
  REQUIRE(r.back().status == "ok");
  REQUIRE(r.back().line == 4);
}

TEST_CASE("a chain file is cut back to its committed size when the store opens", "[store][chain]") {
  TempDir dir;
  Chain agent;
  {
    auto store = open_store(dir);
    write_ok(*store, {agent.next(1)});
  }
  const std::string chain_path = agent_file(dir, "events-00000001.chain");
  const std::string committed = read_text_file(chain_path);
  assas::test::append_text_file(chain_path, "batch 00000000 never committed");
  auto store = open_store(dir);
  REQUIRE(read_text_file(chain_path) == committed);
  write_ok(*store, {agent.next(1)});
  REQUIRE(statuses(dir) == std::vector<std::string>{"start", "ok"});
}

TEST_CASE(
    "a rotation starts a chain file beside the new events file and one never committed is "
    "removed",
    "[store][chain]") {
  TempDir dir;
  StoreLimits limits;
  limits.max_file_size = 1500;
  Chain agent;
  {
    auto store = open_store(dir, limits);
    for (int i = 0; i < 12; ++i) {
      write_ok(*store, {agent.next(3)});
    }
  }
  REQUIRE(std::filesystem::exists(agent_file(dir, "events-00000002.jsonl")));
  size_t total = 0;
  int index = 1;
  for (;; ++index) {
    char name[32];
    std::snprintf(name, sizeof name, "events-%08d.chain", index);
    if (!std::filesystem::exists(agent_file(dir, name))) {
      break;
    }
    std::vector<ChainRecord> in_file = records(dir, name);
    REQUIRE_FALSE(in_file.empty());
    REQUIRE(in_file.front().line == 1);  // lines count from each events file's start
    REQUIRE(in_file.front().status == (index == 1 ? "start" : "ok"));  // the chain goes on
    total += in_file.size();
  }
  REQUIRE(total == 12);
  // A rotation that never committed left files behind.
  char events[32];
  char chain[32];
  std::snprintf(events, sizeof events, "events-%08d.jsonl", index);
  std::snprintf(chain, sizeof chain, "events-%08d.chain", index);
  assas::test::write_text_file(agent_file(dir, events), "{}\n");
  assas::test::write_text_file(agent_file(dir, chain), "assas-chain 1\n");
  auto store = open_store(dir, limits);
  REQUIRE_FALSE(std::filesystem::exists(agent_file(dir, events)));
  REQUIRE_FALSE(std::filesystem::exists(agent_file(dir, chain)));
}

TEST_CASE("a store written before the chain (state format 2) opens and goes on with a start",
          "[store][chain]") {
  TempDir dir;
  Chain agent;
  {
    auto store = open_store(dir);
    write_ok(*store, {agent.next(2), agent.next(1)});
  }
  // Make it look like an older version wrote it: a format-2 state and no chain file.
  std::filesystem::remove(agent_file(dir, "events-00000001.chain"));
  uint64_t size = std::filesystem::file_size(agent_file(dir, "events-00000001.jsonl"));
  std::string body = "assas-ingest-state 2\nfile_index 1\nfile_size " + std::to_string(size) +
                     "\nstream " + std::to_string(kStream) + " 2\n";
  char crc[32];
  std::snprintf(crc, sizeof crc, "crc %08x\n", crc32c::value(body));
  assas::test::write_text_file(agent_file(dir, "state"), body + crc);

  auto store = open_store(dir);
  REQUIRE(store->stored_upto(kStream) == 2);
  REQUIRE(read_text_file(agent_file(dir, "events-00000001.chain")) == kChainFileHeader);
  REQUIRE(read_text_file(agent_file(dir, "state")).rfind("assas-ingest-state 3\n", 0) == 0);
  write_ok(*store, {agent.next(1)});
  std::vector<ChainRecord> r = records(dir);
  REQUIRE(r.size() == 1);
  REQUIRE(r[0].status == "start");  // the head was unknown
  REQUIRE(r[0].line == 4);          // the three lines before were counted
  REQUIRE(messages(dir) == std::vector<std::string>{"1-0", "1-1", "2-0", "3-0"});
}

}  // namespace assas::ingest
