// End to end: real assas-agent and assas-ingest processes, mutual TLS with certificates made at
// test time, lines written to three files while the agent runs, every line checked at the
// receiver: exactly once, in order per file, byte for byte.

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/integration/deployment.h"
#include "tests/support/binaries.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace assas::test {
namespace {

using namespace std::chrono_literals;

constexpr int kFiles = 3;

// Real log lines (loghub samples, CRLF kept: the receiver must get the '\r' too) as templates.
std::vector<std::string> corpus_lines() {
  std::vector<std::string> lines;
  for (const char* name : {"OpenSSH_2k.log", "Linux_2k.log", "Apache_2k.log"}) {
    std::ifstream in(std::string(ASSAS_SOURCE_DIR) + "/../shared/corpora/loghub/" + name,
                     std::ios::binary);
    std::string line;
    while (std::getline(in, line)) {
      lines.push_back(line);
    }
  }
  if (lines.empty()) {  // without shared/ beside the repo, still realistic enough
    lines.push_back(
        "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186\r");
  }
  return lines;
}

// The expected message of line n of file k: unique id first, so that loss, duplication and
// reordering are all visible.
std::string message_for(int file, int n, const std::vector<std::string>& corpus) {
  return "f" + std::to_string(file) + " n" + std::to_string(n) + " " +
         corpus[static_cast<size_t>(n * 7 + file) % corpus.size()];
}

class Writer {
 public:
  explicit Writer(const Deployment& d) : corpus_(corpus_lines()) {
    for (int k = 0; k < kFiles; ++k) {
      paths_.push_back(d.logs_dir() + "/app" + std::to_string(k) + ".log");
    }
  }
  // Appends lines round-robin across the files until total lines were written.
  void write_until(int total) {
    std::vector<std::ofstream> out;
    for (const std::string& p : paths_) {
      out.emplace_back(p, std::ios::binary | std::ios::app);
    }
    while (written_ < total) {
      int file = written_ % kFiles;
      int n = written_ / kFiles;
      out[static_cast<size_t>(file)] << message_for(file, n, corpus_) << '\n';
      ++written_;
      if (written_ % 3000 == 0) {
        for (auto& o : out) {
          o.flush();  // let the agent see appends arrive in pieces, as from a real program
        }
      }
    }
  }
  int written() const { return written_; }
  const std::string& path(int k) const { return paths_[static_cast<size_t>(k)]; }
  const std::vector<std::string>& corpus() const { return corpus_; }

 private:
  std::vector<std::string> corpus_;
  std::vector<std::string> paths_;
  int written_ = 0;
};

// Every written line exactly once, in order per file, byte for byte.
void require_exactly_once(const Deployment& d, const Writer& w) {
  std::vector<ReceivedEvent> events = d.received();
  std::map<std::string, std::vector<const ReceivedEvent*>> by_source;
  for (const ReceivedEvent& e : events) {
    by_source[e.source].push_back(&e);
  }
  REQUIRE(by_source.size() == kFiles);
  for (int k = 0; k < kFiles; ++k) {
    const auto& got = by_source[w.path(k)];
    int expected = w.written() / kFiles + (k < w.written() % kFiles ? 1 : 0);
    INFO("file " << w.path(k));
    REQUIRE(static_cast<int>(got.size()) == expected);
    uint64_t offset = 0;
    for (int n = 0; n < expected; ++n) {
      std::string want = message_for(k, n, w.corpus());
      if (got[static_cast<size_t>(n)]->message != want) {
        FAIL("line " << n << " differs: got '" << got[static_cast<size_t>(n)]->message << "' want '"
                     << want << "'");
      }
      REQUIRE(got[static_cast<size_t>(n)]->offset == offset);
      offset += want.size() + 1;
    }
  }
  REQUIRE(static_cast<int>(events.size()) == w.written());
}

}  // namespace

TEST_CASE("100,000 lines across three files arrive exactly once, in order, byte for byte",
          "[integration][e2e]") {
  Deployment d;
  d.start_ingest();
  Writer w(d);
  w.write_until(3000);  // some lines exist before the agent starts
  d.start_agent();
  w.write_until(100000);
  bool all = d.wait_for_events(100000, 180s);
  INFO("agent log:\n" << d.agent_log() << "\ningest log:\n" << d.ingest_log());
  REQUIRE(all);
  // Give a duplicate the chance to show up before checking.
  REQUIRE_FALSE(d.wait_for_events(100001, 1s));
  require_exactly_once(d, w);
  REQUIRE(d.agent().terminate(20s) == 0);
  REQUIRE(d.ingest().terminate(20s) == 0);
}

TEST_CASE("kill -9 of the agent mid-stream, then a restart, still delivers every line once",
          "[integration][e2e][crash]") {
  Deployment d;
  d.start_ingest();
  Writer w(d);
  // Small batches, so that many are in flight when the kill lands.
  std::string pipeline = "pipeline: { batch: { max_events: 256, max_delay: 20ms } }\n";
  d.start_agent(pipeline);
  w.write_until(60000);
  REQUIRE(d.wait_for_events(15000, 120s));
  d.agent().kill9();
  size_t at_kill = d.received().size();
  INFO("events stored when the agent was killed: " << at_kill);
  w.write_until(100000);
  d.start_agent(pipeline);
  bool all = d.wait_for_events(100000, 180s);
  INFO("after the restart, agent log:\n" << d.agent_log() << "\ningest log:\n" << d.ingest_log());
  REQUIRE(all);
  REQUIRE_FALSE(d.wait_for_events(100001, 2s));
  require_exactly_once(d, w);
  REQUIRE(d.agent().terminate(20s) == 0);
  REQUIRE(d.ingest().terminate(20s) == 0);
}

TEST_CASE("kill -9 of the agent twice in a row, with lines written between, loses nothing",
          "[integration][e2e][crash]") {
  Deployment d;
  d.start_ingest();
  Writer w(d);
  std::string pipeline = "pipeline: { batch: { max_events: 128, max_delay: 10ms } }\n";
  for (int round = 1; round <= 3; ++round) {
    d.start_agent(pipeline);
    w.write_until(round * 10000);
    REQUIRE(d.wait_for_events(static_cast<size_t>(round * 10000 - 5000), 120s));
    d.agent().kill9();
  }
  d.start_agent(pipeline);
  bool all = d.wait_for_events(30000, 120s);
  INFO("after the last restart, agent log:\n"
       << d.agent_log() << "\ningest log:\n"
       << d.ingest_log());
  REQUIRE(all);
  REQUIRE_FALSE(d.wait_for_events(30001, 2s));
  require_exactly_once(d, w);
  REQUIRE(d.agent().terminate(20s) == 0);
}

}  // namespace assas::test
