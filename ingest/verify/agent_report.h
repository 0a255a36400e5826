#pragma once

// What `assas-ingest verify` found in one agent's directory: the findings, one line each
//
//   <path>:<line>: <kind>: <details>
//
// and a summary line with the counts. Problems (something stored was altered, removed, inserted,
// reordered or wrongly signed) make the exit status 1; recorded findings (gaps and breaks the
// receiver recorded on receipt, files no chain covers) 3; info lines change nothing.

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace assas::ingest {

enum class FindingKind {
  kAltered,
  kRemoved,
  kInserted,
  kReordered,
  kBadSignature,
  kBadCertificate,
  kDamaged,  // a chain file line that does not parse
  kRecordedGap,
  kRecordedRestart,
  kRecordedBreak,
  kNotCovered,  // an events file without its chain file
  kInfo,
};

enum class Severity { kProblem, kRecorded, kInfo };

// "altered", "bad signature", "recorded gap", "not covered", ...
std::string_view finding_kind_name(FindingKind kind);
Severity severity_of(FindingKind kind);

struct Finding {
  std::string path;
  uint64_t line = 0;  // 1-based
  FindingKind kind = FindingKind::kInfo;
  std::string details;
};

class AgentReport {
 public:
  // Keeps the first max_kept findings to print; later ones are only counted, so that a file
  // altered on every line costs no more memory than a clean one.
  AgentReport(std::string identity, size_t max_kept)
      : identity_(std::move(identity)), max_kept_(max_kept) {}

  void add(Finding finding);
  // Counts a finding without keeping it (the report is full).
  void count(FindingKind kind);
  // How many more findings add() keeps.
  size_t room() const { return findings_.size() < max_kept_ ? max_kept_ - findings_.size() : 0; }

  uint64_t problems() const { return problems_; }
  uint64_t recorded() const { return recorded_; }
  const std::vector<Finding>& findings() const { return findings_; }

  // Counted by the verifier, for the summary.
  uint64_t events = 0;
  uint64_t batches = 0;
  uint64_t streams = 0;
  uint64_t signatures_verified = 0;

  // Prints the findings kept (then "... and N more findings"), then the summary line.
  void print(std::FILE* out) const;

 private:
  void tally(FindingKind kind);

  std::string identity_;
  size_t max_kept_;
  std::vector<Finding> findings_;
  uint64_t omitted_ = 0;
  uint64_t problems_ = 0;
  uint64_t recorded_ = 0;
};

}  // namespace assas::ingest
