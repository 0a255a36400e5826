#pragma once

// The two passes of `assas-ingest verify` over one stored events file, both streaming: the first
// fingerprints every line (event_fingerprint of its canonical encoding, as the receiver stored it
// in the chain file), the second hands the decoded events of chosen lines to the caller, so that
// it can hash the batches found whole. Between the two the file is not held in memory.

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "ingest/verify/event_aligner.h"
#include "ingest/verify/stored_event.h"

namespace assas::ingest {

struct EventsFileLines {
  std::vector<LineFingerprint> lines;
  // Why a line does not decode (0-based line), for the first lines that do not: it is said with
  // the finding about that line.
  std::map<size_t, std::string> errors;
  bool cut = false;  // the file has more than max_lines lines: those after are not read
};

// Fails only if the file cannot be read. Reads at most max_lines lines, so that memory stays
// bounded (a few dozen bytes per line) whatever the file holds.
Result<EventsFileLines> fingerprint_events_file(const std::string& path, size_t max_line_bytes,
                                                size_t max_lines);

// Calls on_line(line, event) for every 0-based line whose wanted[line] is not 0, in order, with
// its decoded event, or null if it does not decode now (the file changed since the first pass).
Status read_events(const std::string& path, size_t max_line_bytes, std::span<const uint8_t> wanted,
                   const std::function<void(size_t, const StoredEvent*)>& on_line);

}  // namespace assas::ingest
