// Issue 10, the chain of custody, with the real programs: assas-agent chains and signs what it
// buffers, assas-ingest checks it on receipt and stores it, and `assas-ingest verify` re-checks the
// stored files on a copy, without the service. docs/integrity.md describes the scheme.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ingest/chain_record.h"
#include "ingest/store_state.h"
#include "ingest/verify/stored_event.h"
#include "tests/integration/deployment.h"
#include "tests/integration/log_writer.h"
#include "tests/support/binaries.h"
#include "tests/support/process_guard.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"
#include "transport/protocol/chain.h"
#include "transport/tls/chain_signer.h"

namespace assas::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Small batches, so that 50,000 lines make a few hundred batches and many checkpoints; a small
// events file, so that the store rotates and verify walks several files.
const std::string kPipeline =
    "pipeline: { batch: { max_events: 256, max_delay: 20ms } }\n"
    "metrics: { interval: 200ms }\n";

struct VerifyRun {
  int exit_code = -1;
  std::string output;
};

VerifyRun run_verify(const std::vector<std::string>& args, const std::string& log_path) {
  std::vector<std::string> argv = {ASSAS_INGEST_BIN, "verify"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::remove(log_path.c_str());
  ProcessGuard verify;
  verify.start(argv, {}, log_path);
  VerifyRun run;
  run.exit_code = verify.wait_exit(120s);
  run.output = read_text_file(log_path);
  return run;
}

std::string store_of(const Deployment& d) {
  return d.root() + "/ingest-data/it-agent";
}

// A fresh copy of the agent's stored directory, for one tampering.
std::string copy_store(const Deployment& d, const std::string& name) {
  std::string copy = d.root() + "/" + name;
  fs::remove_all(copy);
  fs::copy(store_of(d), copy, fs::copy_options::recursive);
  return copy;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
  }
  return lines;
}

void write_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  for (const std::string& line : lines) {
    out << line << '\n';
  }
}

std::vector<std::string> events_files(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.starts_with("events-") && name.ends_with(".jsonl")) {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<ingest::ChainRecord> chain_records(const std::string& dir) {
  std::vector<ingest::ChainRecord> records;
  for (const std::string& events : events_files(dir)) {
    std::vector<std::string> lines =
        read_lines(events.substr(0, events.size() - std::string(".jsonl").size()) + ".chain");
    REQUIRE_FALSE(lines.empty());
    REQUIRE(lines[0] == "assas-chain 1");
    for (size_t i = 1; i < lines.size(); ++i) {
      Result<ingest::ChainRecord> record = ingest::parse_chain_record(lines[i]);
      INFO(lines[i]);
      REQUIRE(record.is_ok());
      records.push_back(std::move(record).value());
    }
  }
  return records;
}

std::map<std::string, int> statuses(const std::vector<ingest::ChainRecord>& records) {
  std::map<std::string, int> count;
  for (const auto& r : records) {
    ++count[r.status];
  }
  return count;
}

// The message of a stored JSON line changed in one byte, the JSON kept valid.
std::string with_one_byte_changed(std::string line) {
  size_t at = line.find("\"message\":\"");
  REQUIRE(at != std::string::npos);
  at += 11 + 5;  // a character inside the message
  line[at] = line[at] == 'x' ? 'y' : 'x';
  return line;
}

void ship(Deployment& d, int lines) {
  d.set_ingest_options("  max_file_size: 1MiB\n");
  d.start_ingest();
  d.start_agent(kPipeline);
  LogWriter w(d.logs_dir() + "/app.log", "t");
  w.write(lines);
  bool all = d.wait_for_events(static_cast<size_t>(lines), 180s);
  INFO(d.agent_log() << d.ingest_log());
  REQUIRE(all);
  REQUIRE(d.agent().terminate(20s) == 0);
  REQUIRE(d.ingest().terminate(20s) == 0);
}

// Expect verify to fail with a finding of kind at file:line (line 0: any line of file).
void require_found(const VerifyRun& run, const std::string& file, size_t line,
                   const std::string& kind) {
  INFO(run.output);
  REQUIRE(run.exit_code == 1);
  std::string spot = file + ":" + (line == 0 ? "" : std::to_string(line) + ": " + kind);
  REQUIRE(run.output.find(spot) != std::string::npos);
  REQUIRE(run.output.find(": " + kind) != std::string::npos);
  std::printf("  verify found: %s\n", run.output.substr(0, run.output.find('\n')).c_str());
}

}  // namespace

TEST_CASE(
    "issue 10: 50,000 shipped lines verify clean and every kind of tampering is found at "
    "its file and line",
    "[integration][integrity]") {
  Deployment d;
  ship(d, 50000);
  std::vector<ingest::ChainRecord> records = chain_records(store_of(d));
  std::map<std::string, int> status = statuses(records);
  INFO("statuses: " << status.size());
  REQUIRE(status["start"] == 1);
  REQUIRE(status["ok"] == static_cast<int>(records.size()) - 1);
  size_t signed_batches = std::count_if(records.begin(), records.end(),
                                        [](const auto& r) { return !r.signature.empty(); });
  REQUIRE(signed_batches >= records.size() / 16);
  std::vector<std::string> files = events_files(store_of(d));
  REQUIRE(files.size() >= 3);
  std::printf("  50,000 lines: %zu batches in %zu events files, %zu of them signed\n",
              records.size(), files.size(), signed_batches);

  std::string log = d.root() + "/verify.log";
  VerifyRun clean = run_verify({copy_store(d, "clean")}, log);
  INFO(clean.output);
  REQUIRE(clean.exit_code == 0);
  // Also by agent name under a data directory.
  REQUIRE(run_verify({"--data-dir", d.root() + "/ingest-data", "it-agent"}, log).exit_code == 0);

  const std::string file = "events-00000002.jsonl";
  SECTION("one byte of one message edited") {
    std::string copy = copy_store(d, "edited");
    std::vector<std::string> lines = read_lines(copy + "/" + file);
    lines[99] = with_one_byte_changed(lines[99]);
    write_lines(copy + "/" + file, lines);
    require_found(run_verify({copy}, log), file, 100, "altered");
  }
  SECTION("one line deleted") {
    std::string copy = copy_store(d, "deleted");
    std::vector<std::string> lines = read_lines(copy + "/" + file);
    lines.erase(lines.begin() + 199);
    write_lines(copy + "/" + file, lines);
    require_found(run_verify({copy}, log), file, 200, "removed");
  }
  SECTION("a forged line inserted") {
    std::string copy = copy_store(d, "inserted");
    std::vector<std::string> lines = read_lines(copy + "/" + file);
    lines.insert(lines.begin() + 299, with_one_byte_changed(lines[299]));
    write_lines(copy + "/" + file, lines);
    require_found(run_verify({copy}, log), file, 300, "inserted");
  }
  SECTION("two lines swapped") {
    std::string copy = copy_store(d, "swapped");
    std::vector<std::string> lines = read_lines(copy + "/" + file);
    std::swap(lines[399], lines[400]);
    write_lines(copy + "/" + file, lines);
    require_found(run_verify({copy}, log), file, 400, "reordered");
  }
  SECTION("a file truncated") {
    std::string copy = copy_store(d, "truncated");
    std::vector<std::string> lines = read_lines(copy + "/" + file);
    fs::resize_file(copy + "/" + file, fs::file_size(copy + "/" + file) / 2);
    require_found(run_verify({copy}, log), file, 0, "removed");
  }
}

TEST_CASE(
    "issue 10: an agent killed with kill -9 mid-stream continues its chain and verify "
    "flags nothing",
    "[integration][integrity][crash]") {
  Deployment d;
  d.start_ingest();
  d.start_agent(kPipeline);
  LogWriter w(d.logs_dir() + "/app.log", "t");
  w.write(20000);
  REQUIRE(d.wait_for_events(5000, 120s));
  d.agent().kill9();
  w.write(10000);
  d.start_agent(kPipeline);
  bool all = d.wait_for_events(30000, 180s);
  INFO(d.agent_log() << d.ingest_log());
  REQUIRE(all);
  REQUIRE(d.agent().terminate(20s) == 0);
  REQUIRE(d.ingest().terminate(20s) == 0);
  std::map<std::string, int> status = statuses(chain_records(store_of(d)));
  REQUIRE(status.size() == 2);  // one start, then only ok: the restart continued the chain
  REQUIRE(status["start"] == 1);
  VerifyRun run = run_verify({store_of(d)}, d.root() + "/verify.log");
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
}

TEST_CASE(
    "issue 10: an agent that signs with a key other than its certificate's is marked on "
    "receipt and fails verify",
    "[integration][integrity]") {
  // It connects with a valid certificate, so its events are stored, but the checkpoints are signed
  // with a key the SOC's CA never certified for it: every signed batch is a break-signature.
  Deployment d;
  TempDir other;
  TestPki forger = make_test_pki(other.file("pki"), "it-agent");
  d.start_ingest();
  d.start_agent(kPipeline + "integrity: { signing_key: " + forger.client_key() + " }\n");
  LogWriter w(d.logs_dir() + "/app.log", "t");
  w.write(3000);
  REQUIRE(d.wait_for_events(3000, 120s));
  REQUIRE(d.agent().terminate(20s) == 0);
  REQUIRE(d.ingest().terminate(20s) == 0);
  std::vector<ingest::ChainRecord> records = chain_records(store_of(d));
  size_t bad = std::count_if(records.begin(), records.end(), [](const auto& r) {
    return r.status.find("break-signature") != std::string::npos;
  });
  REQUIRE(bad >= 1);
  REQUIRE(d.ingest_log().find("chain break") != std::string::npos);
  VerifyRun run = run_verify({store_of(d)}, d.root() + "/verify.log");
  INFO(run.output);
  REQUIRE(run.exit_code == 1);
  REQUIRE(run.output.find("bad signature") != std::string::npos);
}

namespace {

// The forger of the test below: edits one stored line, then recomputes what assas-ingest would
// have stored from there on (fingerprints, content, every following link), as anyone with
// docs/integrity.md can, and signs each checkpoint with their own key. With own_certificate,
// they also put their certificate in certs/ and name it in the records.
void forge(const std::string& dir, const TestPki& forger, bool own_certificate) {
  auto signer = transport::ChainSigner::from_key_file(forger.client_key());
  REQUIRE(signer.is_ok());
  std::string forger_fp;
  if (own_certificate) {
    FILE* f = std::fopen(forger.client_cert().c_str(), "re");
    REQUIRE(f != nullptr);
    X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    REQUIRE(cert != nullptr);
    forger_fp = transport::certificate_fingerprint(cert);
    X509_free(cert);
    fs::copy_file(forger.client_cert(), dir + "/certs/" + forger_fp + ".pem");
  }
  std::vector<std::string> files = events_files(dir);
  transport::Digest prev{};
  bool first_record = true;
  for (size_t f = 0; f < files.size(); ++f) {
    std::vector<std::string> lines = read_lines(files[f]);
    if (f == 0) {
      lines[10] = with_one_byte_changed(lines[10]);
      write_lines(files[f], lines);
    }
    std::string chain_path = files[f].substr(0, files[f].size() - 6) + ".chain";
    std::vector<std::string> chain = read_lines(chain_path);
    for (size_t i = 1; i < chain.size(); ++i) {
      ingest::ChainRecord r = ingest::parse_chain_record(chain[i]).value();
      transport::ContentHasher hasher;
      ingest::StoredEvent event;
      r.fingerprints.clear();
      for (uint64_t n = r.line; n < r.line + r.events; ++n) {
        REQUIRE(event.decode(lines[n - 1]).is_ok());
        r.fingerprints.push_back(transport::event_fingerprint(hasher.add(event.view())));
      }
      if (!first_record) {
        r.prev_link = prev;
      }
      first_record = false;
      r.link = transport::chain_link(r.seq, r.prev_seq, r.prev_link, r.events, hasher.finish());
      if (!r.signature.empty()) {
        r.signature = (*signer)->sign(r.seq, r.link).value();
        if (own_certificate) {
          r.cert = forger_fp;
        }
      }
      chain[i].clear();
      ingest::append_chain_record(chain[i], r);
      chain[i].pop_back();
      prev = r.link;
    }
    write_lines(chain_path, chain);
  }
  // And the state file's head, whose CRC is no signature: the forger leaves no trace but the
  // signatures.
  std::optional<ingest::StoreState> state =
      ingest::decode_store_state(read_text_file(dir + "/state"));
  REQUIRE(state);
  REQUIRE(state->streams.size() == 1);
  state->streams[0].head_link = prev;
  write_text_file(dir + "/state", ingest::encode_store_state(*state));
}

}  // namespace

TEST_CASE("issue 10: a forger who rewrites the stored chain without the agent's key is caught",
          "[integration][integrity]") {
  Deployment d;
  ship(d, 5000);
  TempDir other;
  TestPki forger = make_test_pki(other.file("pki"), "it-agent");
  std::string log = d.root() + "/verify.log";
  SECTION("signing with another key under the agent's certificate") {
    std::string copy = copy_store(d, "forged");
    forge(copy, forger, false);
    VerifyRun run = run_verify({copy}, log);
    INFO(run.output);
    REQUIRE(run.exit_code == 1);
    REQUIRE(run.output.find("bad signature") != std::string::npos);
    // The hash chain itself is consistent again: only the signatures tell.
    REQUIRE(run.output.find("altered") == std::string::npos);
  }
  SECTION("with a certificate of their own that the SOC's CA did not sign") {
    std::string copy = copy_store(d, "forged-cert");
    forge(copy, forger, true);
    VerifyRun run = run_verify({"--ca", d.pki().ca(), copy}, log);
    INFO(run.output);
    REQUIRE(run.exit_code == 1);
  }
  SECTION("a clean copy verifies against the SOC's CA") {
    VerifyRun run = run_verify({"--ca", d.pki().ca(), copy_store(d, "clean")}, log);
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
  }
}

TEST_CASE("issue 10: a corrupt disk-buffer record the agent skips is stored as a recorded gap",
          "[integration][integrity]") {
  Deployment d;
  d.start_ingest();
  d.start_agent(kPipeline);
  LogWriter w(d.logs_dir() + "/app.log", "t");
  w.write(2000);
  REQUIRE(d.wait_for_events(2000, 120s));
  // The receiver goes away; what the agent reads now stays in its buffer.
  REQUIRE(d.ingest().terminate(20s) == 0);
  w.write(20000);
  auto size = static_cast<int64_t>(fs::file_size(w.path()));
  REQUIRE(wait_for([&] { return checkpointed_offset(d.agent_data_dir() + "/checkpoints") == size; },
                   60s));
  REQUIRE(d.agent().terminate(20s) == 0);
  // One byte flipped three quarters into the newest segment: inside a record not yet sent.
  std::vector<fs::path> segments;
  for (const auto& entry : fs::directory_iterator(d.agent_data_dir() + "/buffer")) {
    if (entry.path().extension() == ".seg") {
      segments.push_back(entry.path());
    }
  }
  std::sort(segments.begin(), segments.end());
  REQUIRE_FALSE(segments.empty());
  fs::path victim = segments.back();
  auto at = static_cast<std::streamoff>(fs::file_size(victim) * 3 / 4);
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(at);
    char byte = 0;
    f.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x5a);
    f.seekp(at);
    f.write(&byte, 1);
  }
  d.start_ingest();
  d.start_agent(kPipeline);
  w.write(1000);
  REQUIRE(wait_for(
      [&] {
        std::vector<ReceivedEvent> got = d.received();
        return !got.empty() && got.back().message.starts_with("t#22999 ");
      },
      120s));
  REQUIRE(d.agent().terminate(20s) == 0);
  REQUIRE(d.ingest().terminate(20s) == 0);
  std::map<std::string, int> status = statuses(chain_records(store_of(d)));
  INFO(d.agent_log());
  REQUIRE(status["gap"] == 1);
  REQUIRE(status.size() == 3);  // start, ok, and the gap: no break
  VerifyRun run = run_verify({store_of(d)}, d.root() + "/verify.log");
  INFO(run.output);
  REQUIRE(run.exit_code == 3);
  REQUIRE(run.output.find("recorded gap") != std::string::npos);
}

}  // namespace assas::test
