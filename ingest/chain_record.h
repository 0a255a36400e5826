#pragma once

// One line of an events-NNNNNNNN.chain file: what assas-ingest stores about each batch next to
// its events, and what `assas-ingest verify` reads back (docs/integrity.md, "Stored files").
//
//   batch <stream> <seq> <prev_seq> <prev_link> <link> <line> <events> <status> <signature>
//         <cert> <fingerprints>
//
// Text, so that an investigator can read it with the events; one line per batch, whatever its
// size (8 hex digits of fingerprint per event).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "transport/protocol/chain.h"

namespace assas::ingest {

inline constexpr std::string_view kChainFileHeader = "assas-chain 1\n";

// A batch's verdict on receipt: "ok", "start", "lane", "gap", "restart", "unchained", or breaks
// ("break-link", "break-missing", "break-signature"), several joined with '+'.
struct ChainRecord {
  uint64_t stream = 0;
  uint64_t seq = 0;
  uint64_t prev_seq = 0;
  transport::Digest prev_link{};
  transport::Digest link{};  // computed by the receiver from the events
  uint64_t line = 0;         // 1-based line of the batch's first event in its events file
  uint32_t events = 0;
  std::string status;
  std::string signature;               // raw bytes; empty if the batch is not a checkpoint
  std::string cert;                    // hex SHA-256 of the signing certificate; empty if unsigned
  std::vector<uint32_t> fingerprints;  // one per event
};

// Appends the record as one line, with its newline.
void append_chain_record(std::string& out, const ChainRecord& record);

// Parses one line (without its newline). kCorruption names the field that is wrong. At most
// max_events fingerprints are accepted, so that a hostile file cannot make us allocate more than
// its own size.
Result<ChainRecord> parse_chain_record(std::string_view line, uint32_t max_events = 1U << 20);

// Whether a status word holds any "break-..." verdict.
bool is_break_status(std::string_view status);

}  // namespace assas::ingest
