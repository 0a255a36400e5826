#pragma once

// Writes an agent's directory exactly as assas-ingest stores it (docs/integrity.md, "Stored
// files"): batches made by transport::BatchEncoder, their events as append_event_json lines in
// events-NNNNNNNN.jsonl, one chain record per batch in events-NNNNNNNN.chain, links from
// hash_batch and chain_link, signatures by a ChainSigner, the signing certificate in
// certs/<fingerprint>.pem. Tests then edit the files as an attacker would and run the verifier.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ingest/chain_record.h"
#include "ingest/store_state.h"
#include "tests/support/test_pki.h"
#include "transport/protocol/chain.h"
#include "transport/tls/chain_signer.h"

namespace assas::ingest::test {

// The signing key and certificate of a test PKI's agent.
struct TestSigner {
  std::unique_ptr<transport::ChainSigner> signer;
  std::string cert_pem;     // the certificate, PEM
  std::string fingerprint;  // its SHA-256, hex
};
TestSigner make_signer(const assas::test::TestPki& pki);

// Two PKIs made once per test run (openssl is slow): the first one the agent's, the second one an
// attacker's or another SOC's.
const assas::test::TestPki& first_pki();
const assas::test::TestPki& second_pki();

class FakeAgentDir {
 public:
  // Writes to dir (created), signing with signer (may be null: nothing signed).
  FakeAgentDir(std::string dir, const TestSigner* signer);

  struct BatchOptions {
    std::string status;   // "": "start" for a stream's first batch, else "ok"
    bool sign = true;     // a checkpoint (when there is a signer)
    uint64_t lost = 0;    // batches the agent lost before this one (the seq skips them)
    uint32_t events = 3;  // how many events
  };
  // Adds a batch of stream to the current files; returns its seq.
  uint64_t add_batch(uint64_t stream, const BatchOptions& options);
  uint64_t add_batch(uint64_t stream) { return add_batch(stream, BatchOptions()); }
  // Starts the next events file (rotation).
  void rotate();

  const std::string& dir() const { return dir_; }
  std::string events_path(uint32_t index) const;
  std::string chain_path(uint32_t index) const;
  uint32_t file_index() const { return index_; }

 private:
  struct StreamHead {
    uint64_t seq = 0;
    transport::Digest link{};
  };
  std::string make_batch(uint64_t stream, uint64_t seq, uint32_t events);

  std::string dir_;
  const TestSigner* signer_;
  uint32_t index_ = 1;
  uint64_t lines_ = 0;  // in the current events file
  std::map<uint64_t, StreamHead> heads_;
  StoreState state_;
  uint64_t counter_ = 0;  // makes every event different
};

// A file as lines (without their newlines), and back (each with its newline).
std::vector<std::string> read_lines(const std::string& path);
void write_lines(const std::string& path, const std::vector<std::string>& lines);

}  // namespace assas::ingest::test
