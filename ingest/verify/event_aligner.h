#pragma once

// Lines up the lines of an events file with the events its chain file expects, by fingerprint
// (docs/integrity.md, "Stored files"), to say where a stored file was edited: which line was
// altered, which events were removed, which lines inserted, which two swapped. The proof is the
// link, not this: the aligner only locates, and `assas-ingest verify` hashes every batch whose
// lines it found whole and in order.
//
// Greedy, with one line of lookahead first (the common single edits), then a bounded search for
// longer runs of removed or inserted lines, so that one deleted batch does not make every later
// line look altered. Positions are 0-based here; the caller turns them into file lines.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace assas::ingest {

// One line of the events file: its fingerprint, when it decodes (a line that does not decode
// matches nothing).
struct LineFingerprint {
  uint32_t fingerprint = 0;
  bool decoded = false;
};

struct AlignFinding {
  enum class Kind {
    kAltered,    // line `line` holds something else than event `event`
    kRemoved,    // events [event, event + count) are missing before line `line`
    kInserted,   // lines [line, line + count) belong to no event
    kReordered,  // lines line and line + 1 hold events event + 1 and event
    kFileEnds,   // events [event, event + count) have no line: the file ends at line `line`
  };
  Kind kind = Kind::kAltered;
  size_t line = 0;
  size_t event = 0;
  size_t count = 1;
};

struct Alignment {
  // For each expected event, the line that holds it, found in order and matching; -1 if none (or
  // if it was found only swapped with its neighbour).
  std::vector<int64_t> line_of_event;
  std::vector<AlignFinding> findings;  // in file order
};

Alignment align_events(std::span<const LineFingerprint> lines, std::span<const uint32_t> expected);

}  // namespace assas::ingest
