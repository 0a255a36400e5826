#include "ingest/verify/agent_report.h"

#include <cinttypes>

namespace assas::ingest {

std::string_view finding_kind_name(FindingKind kind) {
  switch (kind) {
    case FindingKind::kAltered:
      return "altered";
    case FindingKind::kRemoved:
      return "removed";
    case FindingKind::kInserted:
      return "inserted";
    case FindingKind::kReordered:
      return "reordered";
    case FindingKind::kBadSignature:
      return "bad signature";
    case FindingKind::kBadCertificate:
      return "bad certificate";
    case FindingKind::kDamaged:
      return "damaged";
    case FindingKind::kRecordedGap:
      return "recorded gap";
    case FindingKind::kRecordedRestart:
      return "recorded restart";
    case FindingKind::kRecordedBreak:
      return "recorded break";
    case FindingKind::kNotCovered:
      return "not covered";
    case FindingKind::kInfo:
      return "info";
  }
  return "?";
}

Severity severity_of(FindingKind kind) {
  switch (kind) {
    case FindingKind::kRecordedGap:
    case FindingKind::kRecordedRestart:
    case FindingKind::kRecordedBreak:
    case FindingKind::kNotCovered:
      return Severity::kRecorded;
    case FindingKind::kInfo:
      return Severity::kInfo;
    default:
      return Severity::kProblem;
  }
}

void AgentReport::add(Finding finding) {
  if (findings_.size() >= max_kept_) {
    count(finding.kind);
    return;
  }
  tally(finding.kind);
  findings_.push_back(std::move(finding));
}

void AgentReport::count(FindingKind kind) {
  tally(kind);
  ++omitted_;
}

void AgentReport::tally(FindingKind kind) {
  switch (severity_of(kind)) {
    case Severity::kProblem:
      ++problems_;
      break;
    case Severity::kRecorded:
      ++recorded_;
      break;
    case Severity::kInfo:
      break;
  }
}

void AgentReport::print(std::FILE* out) const {
  for (const Finding& f : findings_) {
    std::string_view kind = finding_kind_name(f.kind);
    std::fprintf(out, "%s:%" PRIu64 ": %.*s: %s\n", f.path.c_str(), f.line,
                 static_cast<int>(kind.size()), kind.data(), f.details.c_str());
  }
  if (omitted_ > 0) {
    std::fprintf(out, "... and %" PRIu64 " more findings\n", omitted_);
  }
  std::fprintf(out,
               "%s: %" PRIu64 " events in %" PRIu64 " batches of %" PRIu64 " streams, %" PRIu64
               " signatures verified; %" PRIu64 " problems, %" PRIu64 " recorded gaps or breaks\n",
               identity_.c_str(), events, batches, streams, signatures_verified, problems_,
               recorded_);
}

}  // namespace assas::ingest
