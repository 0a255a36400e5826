#include "ingest/verify/chain_verifier.h"

#include <sstream>

#include <catch2/catch.hpp>

#include "ingest/verify/verify_command.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/ingest/verify/fake_agent_dir.h"

namespace assas::ingest {
namespace {

using test::FakeAgentDir;

std::string dump(const AgentReport& report) {
  std::ostringstream out;
  for (const Finding& f : report.findings()) {
    out << f.path << ":" << f.line << ": " << finding_kind_name(f.kind) << ": " << f.details
        << "\n";
  }
  return out.str();
}

AgentReport verify(const std::string& dir, const TrustedCa* ca = nullptr,
                   const VerifyLimits& limits = {}) {
  Result<AgentReport> report = verify_agent_dir(dir, ca, limits);
  REQUIRE(report.is_ok());
  return std::move(report).value();
}

bool has(const AgentReport& report, FindingKind kind, const std::string& path, uint64_t line) {
  for (const Finding& f : report.findings()) {
    if (f.kind == kind && f.path == path && f.line == line) {
      return true;
    }
  }
  return false;
}

size_t count_of(const AgentReport& report, Severity severity) {
  size_t n = 0;
  for (const Finding& f : report.findings()) {
    n += severity_of(f.kind) == severity ? 1 : 0;
  }
  return n;
}

int exit_status(const std::string& dir, const std::string& ca = "") {
  VerifyOptions options;
  options.paths = {dir};
  options.ca_file = ca;
  return run_verify(options);
}

const test::TestSigner& agent_signer() {
  static const test::TestSigner* signer =
      new test::TestSigner(test::make_signer(test::first_pki()));
  return *signer;
}

const test::TestSigner& other_signer() {
  static const test::TestSigner* signer =
      new test::TestSigner(test::make_signer(test::second_pki()));
  return *signer;
}

// Three signed batches of three events (lines 1..9) in one file.
FakeAgentDir three_batches(const assas::test::TempDir& tmp) {
  FakeAgentDir agent(tmp.file("web-01"), &agent_signer());
  agent.add_batch(7);
  agent.add_batch(7);
  agent.add_batch(7);
  return agent;
}

}  // namespace

TEST_CASE("a clean agent directory verifies with exit status 0", "[verify]") {
  assas::test::TempDir tmp;
  FakeAgentDir agent = three_batches(tmp);
  AgentReport report = verify(agent.dir());
  INFO(dump(report));
  REQUIRE(report.problems() == 0);
  REQUIRE(report.recorded() == 0);
  REQUIRE(report.findings().empty());
  REQUIRE(report.events == 9);
  REQUIRE(report.batches == 3);
  REQUIRE(report.streams == 1);
  REQUIRE(report.signatures_verified == 3);
  REQUIRE(exit_status(agent.dir()) == 0);
}

TEST_CASE("one byte of one stored message changed is an altered line", "[verify]") {
  assas::test::TempDir tmp;
  FakeAgentDir agent = three_batches(tmp);
  std::vector<std::string> lines = test::read_lines(agent.events_path(1));
  size_t at = lines[4].find("Failed");
  REQUIRE(at != std::string::npos);
  lines[4][at] = 'f';
  test::write_lines(agent.events_path(1), lines);
  AgentReport report = verify(agent.dir());
  INFO(dump(report));
  REQUIRE(report.problems() == 1);
  REQUIRE(has(report, FindingKind::kAltered, agent.events_path(1), 5));
  REQUIRE_THAT(report.findings()[0].details, Catch::Contains("event 2 of batch 2"));
  REQUIRE(exit_status(agent.dir()) == 1);
}

TEST_CASE("a deleted line is a removed event before the line after it", "[verify]") {
  assas::test::TempDir tmp;
  FakeAgentDir agent = three_batches(tmp);
  std::vector<std::string> lines = test::read_lines(agent.events_path(1));
  lines.erase(lines.begin() + 4);
  test::write_lines(agent.events_path(1), lines);
  AgentReport report = verify(agent.dir());
  INFO(dump(report));
  REQUIRE(report.problems() == 1);
  REQUIRE(has(report, FindingKind::kRemoved, agent.events_path(1), 5));
  REQUIRE_THAT(report.findings()[0].details, Catch::Contains("event 2 of batch 2"));
}

TEST_CASE("a forged line inserted belongs to no batch", "[verify]") {
  assas::test::TempDir tmp;
  FakeAgentDir agent = three_batches(tmp);
  std::vector<std::string> lines = test::read_lines(agent.events_path(1));
  std::string forged = lines[3];
  forged.replace(forged.find("Failed password"), 15, "Accepted passwd");
  lines.insert(lines.begin() + 6, forged);
  test::write_lines(agent.events_path(1), lines);
  AgentReport report = verify(agent.dir());
  INFO(dump(report));
  REQUIRE(report.problems() == 1);
  REQUIRE(has(report, FindingKind::kInserted, agent.events_path(1), 7));
}

TEST_CASE("two swapped lines are reordered", "[verify]") {
  assas::test::TempDir tmp;
  FakeAgentDir agent = three_batches(tmp);
  std::vector<std::string> lines = test::read_lines(agent.events_path(1));
  std::swap(lines[1], lines[2]);
  test::write_lines(agent.events_path(1), lines);
  AgentReport report = verify(agent.dir());
  INFO(dump(report));
  REQUIRE(report.problems() == 1);
  REQUIRE(has(report, FindingKind::kReordered, agent.events_path(1), 2));
}

TEST_CASE("a truncated events file is detected", "[verify]") {
  assas::test::TempDir tmp;
  FakeAgentDir agent = three_batches(tmp);
  std::string text = assas::test::read_text_file(agent.events_path(1));
  SECTION("at a line end") {
    std::vector<std::string> lines = test::read_lines(agent.events_path(1));
    lines.resize(7);
    test::write_lines(agent.events_path(1), lines);
    AgentReport report = verify(agent.dir());
    INFO(dump(report));
    REQUIRE(report.problems() == 1);
    REQUIRE(has(report, FindingKind::kRemoved, agent.events_path(1), 8));
    REQUIRE_THAT(report.findings()[0].details,
                 Catch::Contains("the file ends; batch 3 (stream 0000000000000007) expects 2"));
  }
  SECTION("inside a line") {
    assas::test::write_text_file(agent.events_path(1), text.substr(0, text.size() - 20));
    AgentReport report = verify(agent.dir());
    INFO(dump(report));
    REQUIRE(report.problems() == 1);
    REQUIRE(has(report, FindingKind::kAltered, agent.events_path(1), 9));
    REQUIRE_THAT(report.findings()[0].details, Catch::Contains("cut short"));
  }
  SECTION("just its last newline") {
    assas::test::write_text_file(agent.events_path(1), text.substr(0, text.size() - 1));
    REQUIRE(verify(agent.dir()).problems() == 1);
  }
}

TEST_CASE("a deleted chain record is detected", "[verify]") {
  assas::test::TempDir tmp;
  FakeAgentDir agent = three_batches(tmp);
  std::vector<std::string> chain = test::read_lines(agent.chain_path(1));
  REQUIRE(chain.size() == 4);  // the header and three records
  chain.erase(chain.begin() + 2);
  test::write_lines(agent.chain_path(1), chain);
  AgentReport report = verify(agent.dir());
  INFO(dump(report));
  // Its lines belong to no batch, and the next batch continues one that is not there.
  REQUIRE(has(report, FindingKind::kInserted, agent.events_path(1), 4));
  REQUIRE_THAT(report.findings()[0].details, Catch::Contains("lines 4 to 6 belong to no batch"));
  REQUIRE(has(report, FindingKind::kRemoved, agent.chain_path(1), 3));
  REQUIRE(report.problems() == 2);
}

TEST_CASE("a damaged chain line is a finding", "[verify]") {
  assas::test::TempDir tmp;
  FakeAgentDir agent = three_batches(tmp);
  std::vector<std::string> chain = test::read_lines(agent.chain_path(1));
  chain[3].replace(chain[3].find(" ok "), 4, " fine ");
  test::write_lines(agent.chain_path(1), chain);
  AgentReport report = verify(agent.dir());
  INFO(dump(report));
  REQUIRE(has(report, FindingKind::kDamaged, agent.chain_path(1), 4));
  REQUIRE(has(report, FindingKind::kInserted, agent.events_path(1), 7));
}

TEST_CASE("a record re-signed with another key is a bad signature", "[verify]") {
  assas::test::TempDir tmp;
  FakeAgentDir agent = three_batches(tmp);
  std::vector<std::string> chain = test::read_lines(agent.chain_path(1));
  Result<ChainRecord> record = parse_chain_record(chain[2]);
  REQUIRE(record.is_ok());
  Result<std::string> signature = other_signer().signer->sign(record->seq, record->link);
  REQUIRE(signature.is_ok());
  record->signature = *signature;
  chain[2].clear();
  append_chain_record(chain[2], *record);
  chain[2].pop_back();
  test::write_lines(agent.chain_path(1), chain);
  AgentReport report = verify(agent.dir());
  INFO(dump(report));
  REQUIRE(report.problems() == 1);
  REQUIRE(has(report, FindingKind::kBadSignature, agent.chain_path(1), 3));
  REQUIRE(report.signatures_verified == 2);
}

TEST_CASE("a store forged consistently but signed with another key fails", "[verify]") {
  // An attacker rewrote the events and recomputed every fingerprint and link, but can only sign
  // with a key of their own: naming the agent's certificate, every signature is bad.
  assas::test::TempDir tmp;
  test::TestSigner forger = test::make_signer(test::second_pki());
  forger.fingerprint = agent_signer().fingerprint;
  forger.cert_pem = agent_signer().cert_pem;
  FakeAgentDir agent(tmp.file("web-01"), &forger);
  agent.add_batch(7);
  agent.add_batch(7);
  AgentReport report = verify(agent.dir());
  INFO(dump(report));
  REQUIRE(report.problems() == 2);
  REQUIRE(has(report, FindingKind::kBadSignature, agent.chain_path(1), 2));
  REQUIRE(exit_status(agent.dir()) == 1);
}

TEST_CASE("with --ca a certificate from another CA is refused", "[verify]") {
  // The same forgery storing the attacker's own certificate: only the CA tells it apart.
  assas::test::TempDir tmp;
  FakeAgentDir forged(tmp.file("forged"), &other_signer());
  forged.add_batch(7);
  FakeAgentDir genuine(tmp.file("genuine"), &agent_signer());
  genuine.add_batch(7);
  REQUIRE(exit_status(forged.dir()) == 0);
  REQUIRE(exit_status(forged.dir(), test::first_pki().ca()) == 1);
  REQUIRE(exit_status(genuine.dir(), test::first_pki().ca()) == 0);
  REQUIRE(exit_status(genuine.dir(), test::second_pki().ca()) == 1);

  Result<std::unique_ptr<TrustedCa>> ca = TrustedCa::load(test::first_pki().ca());
  REQUIRE(ca.is_ok());
  AgentReport report = verify(forged.dir(), ca->get());
  INFO(dump(report));
  REQUIRE(has(report, FindingKind::kBadCertificate, forged.chain_path(1), 2));
  REQUIRE(report.signatures_verified == 0);
}

TEST_CASE("a missing certificate is a bad signature", "[verify]") {
  assas::test::TempDir tmp;
  FakeAgentDir agent = three_batches(tmp);
  REQUIRE(std::remove((agent.dir() + "/certs/" + agent_signer().fingerprint + ".pem").c_str()) ==
          0);
  AgentReport report = verify(agent.dir());
  INFO(dump(report));
  REQUIRE(report.problems() == 3);
  REQUIRE_THAT(report.findings()[0].details, Catch::Contains("is missing"));
}

TEST_CASE("gaps recorded on receipt give exit status 3", "[verify]") {
  assas::test::TempDir tmp;
  FakeAgentDir agent(tmp.file("web-01"), &agent_signer());
  agent.add_batch(7);
  FakeAgentDir::BatchOptions gap;
  gap.status = "gap";
  gap.lost = 2;
  agent.add_batch(7, gap);
  agent.add_batch(7);
  AgentReport report = verify(agent.dir());
  INFO(dump(report));
  REQUIRE(report.problems() == 0);
  REQUIRE(report.recorded() == 1);
  REQUIRE(has(report, FindingKind::kRecordedGap, agent.chain_path(1), 3));
  REQUIRE_THAT(report.findings()[0].details,
               Catch::Contains("batches 2 to 3 lost before batch 4 (stream 0000000000000007)"));
  REQUIRE(exit_status(agent.dir()) == 3);
}

TEST_CASE("rotated files and interleaved streams verify clean", "[verify]") {
  assas::test::TempDir tmp;
  FakeAgentDir agent(tmp.file("web-01"), &agent_signer());
  FakeAgentDir::BatchOptions unsigned_batch;
  unsigned_batch.sign = false;
  for (int i = 0; i < 4; ++i) {
    agent.add_batch(1);
    agent.add_batch(2, unsigned_batch);
  }
  agent.rotate();
  for (int i = 0; i < 3; ++i) {
    agent.add_batch(2);
    agent.add_batch(1, unsigned_batch);
  }
  AgentReport report = verify(agent.dir());
  INFO(dump(report));
  REQUIRE(report.problems() == 0);
  REQUIRE(report.recorded() == 0);
  REQUIRE(report.streams == 2);
  REQUIRE(report.batches == 14);
  REQUIRE(report.signatures_verified == 7);
  // Stream 1's last 3 batches came after its last signature: said, not a problem.
  REQUIRE(count_of(report, Severity::kInfo) == 1);
  REQUIRE_THAT(report.findings()[0].details,
               Catch::Contains("3 batches of stream 0000000000000001 after the last signed "
                               "checkpoint (batch 4) are chained but not signed"));
  REQUIRE(exit_status(agent.dir()) == 0);

  SECTION("and a removed second chain file is found") {
    REQUIRE(std::remove(agent.chain_path(2).c_str()) == 0);
    AgentReport without = verify(agent.dir());
    INFO(dump(without));
    REQUIRE(has(without, FindingKind::kNotCovered, agent.events_path(2), 1));
    // The state file committed batches the remaining chain files do not reach: the end of the
    // chain was cut off (an older store, never chained, would have no heads in its state).
    REQUIRE(has(without, FindingKind::kRemoved, agent.dir() + "/state", 1));
    REQUIRE(without.problems() == 2);
    REQUIRE(exit_status(agent.dir()) == 1);
  }
  SECTION("and a removed first file is found by the second's chain") {
    REQUIRE(std::remove(agent.chain_path(1).c_str()) == 0);
    REQUIRE(std::remove(agent.events_path(1).c_str()) == 0);
    AgentReport without = verify(agent.dir());
    INFO(dump(without));
    REQUIRE(has(without, FindingKind::kRemoved, agent.chain_path(2), 2));
    REQUIRE(has(without, FindingKind::kRemoved, agent.chain_path(2), 3));
    REQUIRE(exit_status(agent.dir()) == 1);
  }
}

TEST_CASE("an edited chain link is found at its batch", "[verify]") {
  assas::test::TempDir tmp;
  FakeAgentDir agent = three_batches(tmp);
  std::vector<std::string> chain = test::read_lines(agent.chain_path(1));
  Result<ChainRecord> record = parse_chain_record(chain[2]);
  REQUIRE(record.is_ok());
  record->link[0] ^= 1;
  chain[2].clear();
  append_chain_record(chain[2], *record);
  chain[2].pop_back();
  test::write_lines(agent.chain_path(1), chain);
  AgentReport report = verify(agent.dir());
  INFO(dump(report));
  REQUIRE(has(report, FindingKind::kAltered, agent.events_path(1), 4));
  REQUIRE_THAT(report.findings()[0].details, Catch::Contains("does not hash to its stored link"));
  // And the next batch no longer continues it.
  REQUIRE(has(report, FindingKind::kAltered, agent.chain_path(1), 4));
}

TEST_CASE("findings past the cap are counted, and long lines are not read", "[verify]") {
  assas::test::TempDir tmp;
  FakeAgentDir agent(tmp.file("web-01"), &agent_signer());
  FakeAgentDir::BatchOptions big;
  big.events = 50;
  agent.add_batch(7, big);
  std::vector<std::string> lines = test::read_lines(agent.events_path(1));
  for (std::string& line : lines) {
    line = "garbage " + line;
  }
  test::write_lines(agent.events_path(1), lines);
  VerifyLimits limits;
  limits.max_findings = 10;
  limits.max_line_bytes = 64;
  AgentReport report = verify(agent.dir(), nullptr, limits);
  REQUIRE(report.findings().size() == 10);
  REQUIRE(report.problems() == 50);
  REQUIRE_THAT(report.findings()[0].details, Catch::Contains("more than verify reads"));
}

TEST_CASE("an events file with more lines than verify reads is reported", "[verify]") {
  assas::test::TempDir tmp;
  FakeAgentDir agent = three_batches(tmp);
  VerifyLimits limits;
  limits.max_file_lines = 5;
  AgentReport report = verify(agent.dir(), nullptr, limits);
  INFO(dump(report));
  REQUIRE(report.problems() == 1);
  REQUIRE(has(report, FindingKind::kInserted, agent.events_path(1), 6));
  REQUIRE_THAT(report.findings()[0].details, Catch::Contains("the rest is not checked"));
}

TEST_CASE("verify takes an agent's directory, a data directory or a name", "[verify]") {
  assas::test::TempDir tmp;
  FakeAgentDir first(tmp.file("web-01"), &agent_signer());
  first.add_batch(7);
  FakeAgentDir second(tmp.file("web-02"), &agent_signer());
  second.add_batch(7);
  REQUIRE(exit_status(tmp.path()) == 0);
  VerifyOptions options;
  options.paths = {"web-02"};
  options.data_dir = tmp.path();
  REQUIRE(run_verify(options) == 0);
  options.paths = {"web-03"};
  REQUIRE(run_verify(options) == 2);
  REQUIRE(exit_status(tmp.file("nothing-here")) == 2);
  REQUIRE(exit_status(first.dir(), tmp.file("no-ca.pem")) == 2);
  test::write_lines(second.events_path(1), {"not json"});
  REQUIRE(exit_status(tmp.path()) == 1);
}

}  // namespace assas::ingest

namespace assas::ingest {

TEST_CASE("the last batch cut off with its chain record is found against the state file",
          "[verify]") {
  assas::test::TempDir tmp;
  FakeAgentDir agent = three_batches(tmp);
  // Lines and record removed together: nothing left in the files shows it, the state does.
  std::vector<std::string> lines = test::read_lines(agent.events_path(1));
  lines.resize(lines.size() - 3);
  test::write_lines(agent.events_path(1), lines);
  std::vector<std::string> chain = test::read_lines(agent.chain_path(1));
  chain.pop_back();
  test::write_lines(agent.chain_path(1), chain);
  AgentReport report = verify(agent.dir());
  INFO(dump(report));
  REQUIRE(report.problems() == 1);
  REQUIRE(has(report, FindingKind::kRemoved, agent.dir() + "/state", 1));
  REQUIRE(exit_status(agent.dir()) == 1);
}

}  // namespace assas::ingest
