// The pipeline's half of the hash chain (issue 10, docs/integrity.md): every batch is linked to the
// one before it on the Worker, the chain continues across a restart from the buffer's head, and
// checkpoints are signed by the policy (first batch, every N, by interval, aged batches).

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "agent/pipeline/chain_stage.h"
#include "agent/pipeline/pipeline.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "tests/unit/agent/buffer_test_support.h"
#include "transport/protocol/compression.h"

namespace assas::agent {
namespace {

using test::run_until;
using PublicKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

PublicKey public_key_of(const std::string& cert_path) {
  FILE* f = std::fopen(cert_path.c_str(), "re");
  REQUIRE(f != nullptr);
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  REQUIRE(cert != nullptr);
  EVP_PKEY* key = X509_get_pubkey(cert);
  X509_free(cert);
  return PublicKey(key, &EVP_PKEY_free);
}

std::shared_ptr<const transport::ChainSigner> signer_from(const std::string& key_path) {
  auto signer = transport::ChainSigner::from_key_file(key_path);
  REQUIRE(signer.is_ok());
  return std::shared_ptr<const transport::ChainSigner>(std::move(signer).value());
}

// A pipeline over a real buffer and checkpoint store in dir, on a loop of its own.
struct ChainCore {
  ChainCore(const assas::test::TempDir& dir, PipelineOptions p) {
    DiskBufferOptions options;
    options.dir = dir.file("buffer");
    buffer = harness.open(options);
    store = std::move(CheckpointStore::open(dir.file("checkpoints"), harness.worker())).value();
    p.host = "test-host";
    p.first_seq = buffer->last_seq() + 1;
    if (!p.chain.head) {
      p.chain.head = buffer->recovery().chain_head;
    }
    pipeline = std::make_unique<Pipeline>(harness.loop(), harness.worker(), *buffer, *store, p);
  }

  // Pushes n lines and waits until the buffer holds `durable` batches in all.
  void push_lines(int n, uint64_t durable) {
    for (int i = 0; i < n; ++i) {
      line_text = "line " + std::to_string(next_line);
      Event e;
      e.time_ns = next_line;
      e.offset = static_cast<uint64_t>(next_line) * 10;
      e.message = line_text;
      e.next.offset = static_cast<uint64_t>(next_line + 1) * 10;
      ++next_line;
      if (!pipeline->push(stream, e)) {
        // Paused (kPipelineBusy) while batches are in flight: offered again once they are done.
        run_until(harness.loop(), [&] { return pipeline->idle(); });
        REQUIRE(pipeline->push(stream, e));
      }
    }
    run_until(harness.loop(), [&] { return buffer->durable_seq() >= durable; });
  }

  BufferRecord record(uint64_t seq) {
    Result<BufferRecord> r = harness.read_after(*buffer, seq - 1);
    REQUIRE(r.is_ok());
    REQUIRE(r->seq == seq);
    return std::move(r).value();
  }

  void finish() {
    bool done = false;
    pipeline->shutdown([&] { done = true; });
    run_until(harness.loop(), [&] { return done; });
    bool store_closed = false;
    store->close([&] { store_closed = true; });
    run_until(harness.loop(), [&] { return store_closed; });
    harness.close(buffer);
    harness.finish();
  }

  test::LoopHarness harness;
  std::unique_ptr<DiskBuffer> buffer;
  std::unique_ptr<CheckpointStore> store;
  std::unique_ptr<Pipeline> pipeline;
  StreamPtr stream =
      std::make_shared<const Stream>(Stream{"files", "/var/log/a.log", "file:files:1:2", {}});
  std::string line_text;
  int next_line = 0;
};

PipelineOptions full_batches_of(uint32_t events) {
  PipelineOptions p;
  p.limits.max_events = events;
  p.limits.max_delay = std::chrono::seconds(60);  // batches are cut when full, never by age
  return p;
}

// The link recomputed from what the record stores: its payload, decompressed and hashed.
transport::Digest recomputed_link(const BufferRecord& r) {
  std::string raw;
  transport::Decompressor decompressor;
  REQUIRE(decompressor.decompress(r.codec, *r.payload, r.raw_size, 64U << 20, raw).is_ok());
  Result<transport::BatchContent> content = transport::hash_batch(raw, r.event_count);
  REQUIRE(content.is_ok());
  REQUIRE(content->events == r.event_count);
  return transport::chain_link(r.seq, r.chain.prev_seq, r.chain.prev_link, r.event_count,
                               content->content);
}

// A raw batch of n one-line events, for the ChainStage tests.
std::string raw_batch(uint32_t n) {
  transport::BatchEncoder encoder;
  uint32_t stream = encoder.add_stream("files", "/var/log/a.log", {});
  for (uint32_t i = 0; i < n; ++i) {
    encoder.add_event(i, stream, i * 10, "line " + std::to_string(i), {});
  }
  return encoder.finish("test-host");
}

}  // namespace

TEST_CASE("consecutive batches are linked each to the one before", "[pipeline][chain]") {
  assas::test::TempDir dir;
  ChainCore core(dir, full_batches_of(10));
  core.push_lines(40, 4);
  transport::Digest previous{};
  for (uint64_t seq = 1; seq <= 4; ++seq) {
    BufferRecord r = core.record(seq);
    REQUIRE(r.chain.flags == transport::BatchChain::kChained);
    REQUIRE(r.chain.prev_seq == seq - 1);  // the first starts the chain: prev_seq 0, zero link
    REQUIRE(r.chain.prev_link == previous);
    REQUIRE(r.link == recomputed_link(r));
    REQUIRE(r.chain.signature.empty());  // no signer
    previous = r.link;
  }
  REQUIRE(core.pipeline->stats().chain_signatures == 0);
  core.finish();
}

TEST_CASE("a pipeline started with a head continues that chain", "[pipeline][chain]") {
  assas::test::TempDir dir;
  PipelineOptions p = full_batches_of(10);
  ChainHead head{41, {}};
  head.link[0] = 0xab;
  p.chain.head = head;
  ChainCore core(dir, p);
  core.push_lines(10, 1);
  BufferRecord r = core.record(1);
  REQUIRE(r.chain.prev_seq == 41);
  REQUIRE(r.chain.prev_link == head.link);
  REQUIRE(r.link == recomputed_link(r));
  core.finish();
}

TEST_CASE("after a restart the chain continues from the buffer's newest record",
          "[pipeline][chain][recovery]") {
  assas::test::TempDir dir;
  transport::Digest last{};
  {
    ChainCore core(dir, full_batches_of(10));
    core.push_lines(20, 2);
    last = core.record(2).link;
    core.finish();
  }
  ChainCore again(dir, full_batches_of(10));
  REQUIRE(again.buffer->recovery().chain_head.has_value());
  again.push_lines(10, 3);
  BufferRecord r = again.record(3);
  REQUIRE(r.chain.prev_seq == 2);
  REQUIRE(r.chain.prev_link == last);
  REQUIRE(r.link == recomputed_link(r));
  again.finish();
}

TEST_CASE("with sign_every the first batch and then every Nth are signed and verify",
          "[pipeline][chain][sign]") {
  assas::test::TempDir dir;
  assas::test::TestPki pki = assas::test::make_test_pki(dir.file("pki"), "web-01");
  PipelineOptions p = full_batches_of(10);
  p.chain.signer = signer_from(pki.client_key());
  p.chain.sign_every = 3;
  p.chain.sign_interval = std::chrono::hours(1);
  ChainCore core(dir, p);
  core.push_lines(70, 7);
  PublicKey agent = public_key_of(pki.client_cert());
  PublicKey server = public_key_of(pki.server_cert());
  std::vector<uint64_t> signed_seqs;
  for (uint64_t seq = 1; seq <= 7; ++seq) {
    BufferRecord r = core.record(seq);
    if (r.chain.signature.empty()) {
      continue;
    }
    signed_seqs.push_back(seq);
    REQUIRE(transport::verify_checkpoint(agent.get(), seq, r.link, r.chain.signature));
    REQUIRE_FALSE(transport::verify_checkpoint(server.get(), seq, r.link, r.chain.signature));
  }
  REQUIRE(signed_seqs == std::vector<uint64_t>{1, 4, 7});
  REQUIRE(core.pipeline->stats().chain_signatures == 3);
  REQUIRE(core.pipeline->stats().chain_signature_failures == 0);
  core.finish();
}

TEST_CASE("a batch cut by max_delay is always signed", "[pipeline][chain][sign]") {
  assas::test::TempDir dir;
  assas::test::TestPki pki = assas::test::make_test_pki(dir.file("pki"), "web-01");
  PipelineOptions p;
  p.limits.max_events = 10;
  p.limits.max_delay = std::chrono::milliseconds(5);
  p.chain.signer = signer_from(pki.client_key());
  p.chain.sign_every = 0;  // never by count
  p.chain.sign_interval = std::chrono::hours(1);
  ChainCore core(dir, p);
  core.push_lines(10, 1);  // full: the first batch, signed as the first
  core.push_lines(10, 2);  // full: not signed
  core.push_lines(3, 3);   // cut by age: signed
  PublicKey agent = public_key_of(pki.client_cert());
  BufferRecord first = core.record(1);
  BufferRecord full = core.record(2);
  BufferRecord aged = core.record(3);
  REQUIRE(transport::verify_checkpoint(agent.get(), 1, first.link, first.chain.signature));
  REQUIRE(full.chain.signature.empty());
  REQUIRE(aged.event_count == 3);
  REQUIRE(transport::verify_checkpoint(agent.get(), 3, aged.link, aged.chain.signature));
  core.finish();
}

TEST_CASE("with integrity chain off records carry no chain fields and nothing is signed",
          "[pipeline][chain]") {
  assas::test::TempDir dir;
  assas::test::TestPki pki = assas::test::make_test_pki(dir.file("pki"), "web-01");
  PipelineOptions p = full_batches_of(10);
  p.chain.enabled = false;
  p.chain.signer = signer_from(pki.client_key());
  ChainCore core(dir, p);
  core.push_lines(20, 2);
  for (uint64_t seq = 1; seq <= 2; ++seq) {
    BufferRecord r = core.record(seq);
    REQUIRE(r.chain.flags == 0);
    REQUIRE(r.chain.prev_seq == 0);
    REQUIRE(r.chain.prev_link == transport::Digest{});
    REQUIRE(r.link == transport::Digest{});
    REQUIRE(r.chain.signature.empty());
  }
  REQUIRE(core.pipeline->stats().chain_signatures == 0);
  core.finish();
  // And a buffer of unchained records gives no head: the next run starts a new chain.
  ChainCore again(dir, full_batches_of(10));
  REQUIRE_FALSE(again.buffer->recovery().chain_head.has_value());
  again.push_lines(10, 3);
  REQUIRE(again.record(3).chain.prev_seq == 0);
  again.finish();
}

TEST_CASE("the chain stage signs once sign_interval has passed since the last signature",
          "[chain][sign]") {
  assas::test::TempDir dir;
  assas::test::TestPki pki = assas::test::make_test_pki(dir.file("pki"), "web-01");
  ChainOptions options;
  options.signer = signer_from(pki.client_key());
  options.sign_every = 0;
  options.sign_interval = std::chrono::milliseconds(1000);
  ChainStage stage(options);
  std::string raw = raw_batch(4);
  auto link_at = [&](uint64_t seq, int64_t ms) {
    BufferRecord r;
    r.seq = seq;
    r.event_count = 4;
    ChainOutcome outcome = stage.link(r, raw, /*aged=*/false, std::chrono::milliseconds(ms));
    REQUIRE(outcome.linked);
    REQUIRE(outcome.signed_batch == !r.chain.signature.empty());
    return outcome.signed_batch;
  };
  REQUIRE(link_at(1, 10000));  // the first
  REQUIRE_FALSE(link_at(2, 10500));
  REQUIRE_FALSE(link_at(3, 10999));
  REQUIRE(link_at(4, 11000));  // 1 s after the last signature
  REQUIRE_FALSE(link_at(5, 11001));
  REQUIRE(stage.head()->seq == 5);
}

TEST_CASE("the chain stage marks a batch it cannot hash unchained and keeps the head", "[chain]") {
  ChainOptions options;
  options.head = ChainHead{9, {}};
  ChainStage stage(options);
  BufferRecord r;
  r.seq = 10;
  r.event_count = 4;
  ChainOutcome outcome = stage.link(r, "not a batch", false, std::chrono::milliseconds(0));
  REQUIRE_FALSE(outcome.linked);
  REQUIRE(r.chain.flags == 0);
  REQUIRE(stage.head()->seq == 9);
}

}  // namespace assas::agent
