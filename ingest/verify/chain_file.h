#pragma once

// Reads an events-NNNNNNNN.chain file (docs/integrity.md, "Stored files") for `assas-ingest
// verify`: its records in order, each with the line it was on, and a finding for every line that
// is not a record (a damaged or forged line is evidence too, never a reason to stop).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "ingest/chain_record.h"
#include "ingest/verify/agent_report.h"

namespace assas::ingest {

struct LocatedRecord {
  ChainRecord record;
  uint64_t chain_line = 0;  // 1-based line of the chain file
};

// Fails only when the file cannot be read; every bad line goes to note() instead. A line longer
// than max_line_bytes is not read into memory.
Result<std::vector<LocatedRecord>> read_chain_file(const std::string& path, size_t max_line_bytes,
                                                   uint32_t max_batch_events,
                                                   const std::function<void(Finding)>& note);

std::string stream_hex(uint64_t stream);

}  // namespace assas::ingest
