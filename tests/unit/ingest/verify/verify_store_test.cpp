// `assas-ingest verify` against what the real store writes (ingest/agent_store.h), not only the
// test's own writer: batches received, judged and stored by AgentStore, rotated across files,
// then verified at rest.

#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "ingest/agent_key.h"
#include "ingest/agent_store.h"
#include "ingest/verify/chain_verifier.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/ingest/verify/fake_agent_dir.h"
#include "transport/protocol/batch_codec.h"
#include "transport/protocol/compression.h"

namespace assas::ingest {
namespace {

// The agent's side of one stream: each next() continues the chain and signs every other batch.
class AgentStream {
 public:
  explicit AgentStream(const test::TestSigner& signer) : signer_(signer) {
    Result<std::shared_ptr<const AgentKey>> key = AgentKey::from_pem(signer.cert_pem);
    REQUIRE(key.is_ok());
    key_ = *key;
  }

  ReceivedBatch next(int events) {
    ++seq_;
    transport::BatchEncoder encoder;
    std::vector<transport::Field> fields{{"service", "sshd"}, {"odd key", "\xff"}};
    uint32_t stream = encoder.add_stream("auth", "/var/log/auth.log", fields);
    for (int i = 0; i < events; ++i) {
      const std::string index = std::to_string(i);  // the views below point into it
      std::vector<transport::FieldView> own{{"i", index}};
      encoder.add_event(1764000000000000000 + static_cast<int64_t>(seq_ * 1000 + i), stream,
                        seq_ * 1000 + i, "line " + std::to_string(seq_) + "-" + std::to_string(i),
                        own);
    }
    std::string raw = encoder.finish("web-01.example");
    Result<transport::BatchContent> content = transport::hash_batch(raw, 1000);
    REQUIRE(content.is_ok());
    ReceivedBatch batch;
    transport::Compressor compressor(3);
    REQUIRE(compressor.compress(transport::Codec::kZstd, raw, batch.payload).is_ok());
    batch.seq = seq_;
    batch.event_count = static_cast<uint32_t>(events);
    batch.raw_size = static_cast<uint32_t>(raw.size());
    batch.codec = transport::Codec::kZstd;
    batch.chain.flags = transport::BatchChain::kChained;
    batch.chain.prev_seq = seq_ - 1;
    batch.chain.prev_link = link_;
    batch.signer = key_;
    link_ = transport::chain_link(seq_, seq_ - 1, link_, content->events, content->content);
    if (seq_ % 2 == 0) {
      Result<std::string> signature = signer_.signer->sign(seq_, link_);
      REQUIRE(signature.is_ok());
      batch.chain.signature = *signature;
    }
    return batch;
  }

 private:
  const test::TestSigner& signer_;
  std::shared_ptr<const AgentKey> key_;
  uint64_t seq_ = 0;
  transport::Digest link_{};
};

}  // namespace

TEST_CASE("what assas-ingest stores verifies, and an edit to it does not", "[verify]") {
  assas::test::TempDir tmp;
  static const test::TestSigner signer = test::make_signer(test::first_pki());
  {
    StoreLimits limits;
    limits.max_file_size = 4096;  // rotates every few batches
    Result<std::unique_ptr<AgentStore>> store = AgentStore::open(tmp.path(), "web-01", limits);
    INFO(store.status().to_string());
    REQUIRE(store.is_ok());
    AgentStream first(signer);
    AgentStream second(signer);
    for (int round = 0; round < 6; ++round) {
      std::vector<ReceivedBatch> a;
      a.push_back(first.next(5));
      a.push_back(first.next(3));
      REQUIRE((*store)->write(1, a).is_ok());
      std::vector<ReceivedBatch> b;
      b.push_back(second.next(4));
      REQUIRE((*store)->write(2, b).is_ok());
    }
  }
  const std::string dir = tmp.file("web-01");
  Result<std::unique_ptr<TrustedCa>> ca = TrustedCa::load(test::first_pki().ca());
  REQUIRE(ca.is_ok());
  Result<AgentReport> report = verify_agent_dir(dir, ca->get());
  REQUIRE(report.is_ok());
  for (const Finding& f : report->findings()) {
    UNSCOPED_INFO(f.path << ":" << f.line << ": " << finding_kind_name(f.kind) << ": "
                         << f.details);
  }
  REQUIRE(report->problems() == 0);
  REQUIRE(report->recorded() == 0);
  REQUIRE(report->events == 6 * (5 + 3 + 4));
  REQUIRE(report->batches == 18);
  REQUIRE(report->streams == 2);
  REQUIRE(report->signatures_verified == 9);
  const std::string second_file = dir + "/events-00000002.jsonl";
  REQUIRE(!assas::test::read_text_file(second_file).empty());

  std::vector<std::string> lines = test::read_lines(second_file);
  lines[1].replace(lines[1].find("line "), 5, "LINE ");
  test::write_lines(second_file, lines);
  Result<AgentReport> edited = verify_agent_dir(dir, ca->get());
  REQUIRE(edited.is_ok());
  REQUIRE(edited->problems() == 1);
  REQUIRE(edited->findings()[0].kind == FindingKind::kAltered);
  REQUIRE(edited->findings()[0].path == second_file);
  REQUIRE(edited->findings()[0].line == 2);
}

}  // namespace assas::ingest
