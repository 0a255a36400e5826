#pragma once

// `assas-ingest verify` for one agent's directory (docs/integrity.md, "At rest"): for each
// events-NNNNNNNN.jsonl, in order, with its events-NNNNNNNN.chain, it lines the stored lines up
// with the events each chain record expects (by fingerprint: what was altered, removed, inserted
// or reordered, and where), recomputes the content and link of every batch found whole, follows
// each stream from record to record (StreamTracker) and checks every signature with the stored
// certificate. Everything it finds is a Finding in the report; it fails only when it cannot run
// (a file it cannot read).
//
// Blocking; reads one events file at a time, twice, streaming (memory grows with the number of
// lines, not their size).

#include <cstdint>
#include <string>

#include "base/status.h"
#include "ingest/verify/agent_report.h"
#include "ingest/verify/cert_store.h"

namespace assas::ingest {

struct VerifyLimits {
  // A longer stored line is reported (it matches no event), not read.
  size_t max_line_bytes = 80ULL << 20;
  // Lines read per events file (a 256 MiB file holds under 2 million): more are reported, not
  // read, so that a hostile file of empty lines cannot exhaust memory.
  size_t max_file_lines = 32ULL << 20;
  // The receiver's defaults (StoreLimits): a chain record holds 8 hex digits per event.
  uint32_t max_batch_events = 1U << 20;
  size_t max_chain_line_bytes = 8ULL * (1U << 20) + 4096;
  size_t max_findings = 100;  // printed per agent; the rest are counted
};

// agent_dir: <data_dir>/<identity>. ca: null without --ca.
Result<AgentReport> verify_agent_dir(const std::string& agent_dir, const TrustedCa* ca,
                                     const VerifyLimits& limits = {});

}  // namespace assas::ingest
