#include "ingest/verify/chain_verifier.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <map>
#include <optional>
#include <vector>

#include <dirent.h>

#include "base/file_util.h"
#include "ingest/store_state.h"
#include "ingest/verify/chain_file.h"
#include "ingest/verify/event_aligner.h"
#include "ingest/verify/events_file.h"
#include "ingest/verify/line_reader.h"
#include "ingest/verify/stream_tracker.h"

namespace assas::ingest {
namespace {

struct FilePair {
  bool events = false;
  bool chain = false;
};

// "events-00000042.jsonl" or ".chain" → 42.
std::optional<uint32_t> file_index(std::string_view name, std::string_view suffix) {
  constexpr std::string_view kPrefix = "events-";
  constexpr size_t kDigits = 8;
  if (name.size() != kPrefix.size() + kDigits + suffix.size() || !name.starts_with(kPrefix) ||
      !name.ends_with(suffix)) {
    return std::nullopt;
  }
  uint32_t index = 0;
  for (char c : name.substr(kPrefix.size(), kDigits)) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    index = index * 10 + static_cast<uint32_t>(c - '0');
  }
  return index;
}

std::string file_name(uint32_t index, const char* suffix) {
  char name[40];
  std::snprintf(name, sizeof name, "events-%08u%s", index, suffix);
  return name;
}

std::string identity_of(const std::string& dir) {
  size_t slash = dir.find_last_of('/');
  return slash == std::string::npos ? dir : dir.substr(slash + 1);
}

class AgentVerifier {
 public:
  AgentVerifier(std::string dir, const TrustedCa* ca, const VerifyLimits& limits)
      : dir_(std::move(dir)),
        limits_(limits),
        report_(identity_of(dir_), limits.max_findings),
        certs_(dir_ + "/certs", ca),
        tracker_(certs_, [this](Finding f) { note(std::move(f)); }) {}

  Result<AgentReport> run() && {
    Result<std::map<uint32_t, FilePair>> files = list_files();
    if (!files.is_ok()) {
      return files.status();
    }
    uint32_t previous = 0;
    for (const auto& [index, pair] : *files) {
      const std::string events_path = dir_ + "/" + file_name(index, ".jsonl");
      if (previous != 0 && index > previous + 1) {
        note(Finding{pair.events ? events_path : dir_ + "/" + file_name(index, ".chain"), 1,
                     FindingKind::kRemoved,
                     "the events files (and chain files) " + std::to_string(previous + 1) + " to " +
                         std::to_string(index - 1) + " before this one are missing"});
      }
      previous = index;
      ASSAS_RETURN_IF_ERROR(verify_file(index, pair));
      flush(events_path);
    }
    check_state();
    tracker_.finish();
    flush("");
    report_.streams = tracker_.streams();
    report_.signatures_verified = tracker_.signatures_verified();
    return std::move(report_);
  }

 private:
  Result<std::map<uint32_t, FilePair>> list_files() const {
    DIR* dir = ::opendir(dir_.c_str());
    if (dir == nullptr) {
      return posix_status("open directory '" + dir_ + "'", errno);
    }
    std::map<uint32_t, FilePair> files;
    while (const dirent* entry = ::readdir(dir)) {
      std::string_view name = entry->d_name;
      if (std::optional<uint32_t> index = file_index(name, ".jsonl")) {
        files[*index].events = true;
      } else if (std::optional<uint32_t> chain = file_index(name, ".chain")) {
        files[*chain].chain = true;
      }
    }
    ::closedir(dir);
    return files;
  }

  // The state file commits where each stream ends: batches cut off the end of a stream, lines
  // and chain records together, leave no trace in the files but show against it.
  void check_state() {
    const std::string path = dir_ + "/state";
    Result<std::string> text = read_file(path, kMaxStateFileBytes);
    if (!text.is_ok()) {
      if (text.status().code() != StatusCode::kNotFound) {
        note(Finding{path, 1, FindingKind::kInfo,
                     "cannot read the state file (" + text.status().message() +
                         "); the end of each stream is not checked against it"});
      }
      return;
    }
    std::optional<StoreState> state = decode_store_state(*text);
    if (!state) {
      note(Finding{path, 1, FindingKind::kInfo,
                   "the state file is damaged; the end of each stream is not checked against it"});
      return;
    }
    tracker_.check_state(*state, path);
  }

  Status verify_file(uint32_t index, FilePair pair);
  void report_alignment(const std::string& path, const Alignment& alignment,
                        const EventsFileLines& lines);
  size_t record_of(size_t event) const;
  std::string batch_name(size_t record) const;
  std::string describe_event(size_t event) const;
  // Recomputes the link of every record whose events were all found in order.
  Result<std::vector<std::optional<transport::Digest>>> recompute_links(const std::string& path,
                                                                        const Alignment& alignment,
                                                                        size_t line_count);

  // Keeps a finding for this file's sorted batch, or only counts it once the report is full.
  void note(Finding finding) {
    if (pending_.size() < report_.room()) {
      pending_.push_back(std::move(finding));
    } else {
      report_.count(finding.kind);
    }
  }

  // Adds this file's findings in order: the events file's, then the chain file's, by line (or as
  // they came, with no events path: the streams' info at the end).
  void flush(const std::string& events_path) {
    if (!events_path.empty()) {
      std::stable_sort(pending_.begin(), pending_.end(), [&](const Finding& a, const Finding& b) {
        bool a_chain = a.path != events_path;
        bool b_chain = b.path != events_path;
        return a_chain != b_chain ? b_chain : a.line < b.line;
      });
    }
    for (Finding& f : pending_) {
      report_.add(std::move(f));
    }
    pending_.clear();
  }

  std::string dir_;
  VerifyLimits limits_;
  AgentReport report_;
  CertStore certs_;
  StreamTracker tracker_;
  std::vector<Finding> pending_;
  // The current file's records, and where each one's events start among all it expects.
  std::vector<LocatedRecord> records_;
  std::vector<size_t> first_event_;
};

Status AgentVerifier::verify_file(uint32_t index, FilePair pair) {
  const std::string events_path = dir_ + "/" + file_name(index, ".jsonl");
  const std::string chain_path = dir_ + "/" + file_name(index, ".chain");
  EventsFileLines lines;
  if (pair.events) {
    Result<EventsFileLines> scanned =
        fingerprint_events_file(events_path, limits_.max_line_bytes, limits_.max_file_lines);
    if (!scanned.is_ok()) {
      return scanned.status();
    }
    lines = std::move(scanned).value();
    if (lines.cut) {
      note(Finding{events_path, lines.lines.size() + 1, FindingKind::kInserted,
                   "more lines than verify reads in one file (" +
                       std::to_string(limits_.max_file_lines) + "); the rest is not checked"});
    }
  }
  report_.events += lines.lines.size();
  if (!pair.chain) {
    if (!lines.lines.empty()) {
      note(Finding{events_path, 1, FindingKind::kNotCovered,
                   "no chain file (" + file_name(index, ".chain") + "): its " +
                       std::to_string(lines.lines.size()) + " events cannot be verified"});
    }
    return Status::ok();
  }
  Result<std::vector<LocatedRecord>> records =
      read_chain_file(chain_path, limits_.max_chain_line_bytes, limits_.max_batch_events,
                      [this](Finding f) { note(std::move(f)); });
  if (!records.is_ok()) {
    return records.status();
  }
  records_ = std::move(records).value();
  report_.batches += records_.size();
  std::vector<uint32_t> expected;
  first_event_.clear();
  for (const LocatedRecord& r : records_) {
    first_event_.push_back(expected.size());
    expected.insert(expected.end(), r.record.fingerprints.begin(), r.record.fingerprints.end());
  }
  Alignment alignment = align_events(lines.lines, expected);
  if (pair.events) {
    report_alignment(events_path, alignment, lines);
  } else if (!records_.empty()) {
    note(Finding{chain_path, 1, FindingKind::kRemoved,
                 "its events file " + file_name(index, ".jsonl") + " is missing (" +
                     std::to_string(expected.size()) + " events)"});
  }
  Result<std::vector<std::optional<transport::Digest>>> links =
      recompute_links(events_path, alignment, lines.lines.size());
  if (!links.is_ok()) {
    return links.status();
  }
  for (size_t r = 0; r < records_.size(); ++r) {
    const std::optional<transport::Digest>& link = (*links)[r];
    const ChainRecord& record = records_[r].record;
    if (link && *link != record.link) {
      uint64_t line = record.events == 0
                          ? record.line
                          : static_cast<uint64_t>(alignment.line_of_event[first_event_[r]]) + 1;
      note(Finding{events_path, line, FindingKind::kAltered,
                   "batch " + std::to_string(record.seq) + " (stream " + stream_hex(record.stream) +
                       ") does not hash to its stored link: its events or its chain record were "
                       "edited"});
    }
    tracker_.check(records_[r], chain_path, link ? &*link : nullptr);
  }
  return Status::ok();
}

Result<std::vector<std::optional<transport::Digest>>> AgentVerifier::recompute_links(
    const std::string& path, const Alignment& alignment, size_t line_count) {
  std::vector<std::optional<transport::Digest>> links(records_.size());
  std::vector<int32_t> owner(line_count, -1);
  std::vector<uint8_t> wanted(line_count, 0);
  for (size_t r = 0; r < records_.size(); ++r) {
    const ChainRecord& record = records_[r].record;
    auto begin = alignment.line_of_event.begin() + static_cast<ptrdiff_t>(first_event_[r]);
    auto end = begin + record.events;
    if (std::any_of(begin, end, [](int64_t line) { return line < 0; })) {
      continue;  // not whole: the aligner said why
    }
    if (record.events == 0) {
      transport::ContentHasher empty;
      links[r] =
          transport::chain_link(record.seq, record.prev_seq, record.prev_link, 0, empty.finish());
    }
    for (auto it = begin; it != end; ++it) {
      owner[static_cast<size_t>(*it)] = static_cast<int32_t>(r);
      wanted[static_cast<size_t>(*it)] = 1;
    }
  }
  // The aligner pairs lines and events in order, so a whole batch's lines come one batch at a
  // time: one hasher is enough.
  transport::ContentHasher hasher;
  int32_t current = -1;
  uint32_t added = 0;
  bool failed = false;
  Status s =
      read_events(path, limits_.max_line_bytes, wanted, [&](size_t line, const StoredEvent* event) {
        const int32_t r = owner[line];
        if (r != current) {
          current = r;
          added = 0;
          failed = false;
        }
        if (event == nullptr) {
          failed = true;
        } else {
          hasher.add(event->view());
        }
        const ChainRecord& record = records_[static_cast<size_t>(r)].record;
        if (++added == record.events) {
          transport::Digest content = hasher.finish();
          if (!failed) {
            links[static_cast<size_t>(r)] = transport::chain_link(
                record.seq, record.prev_seq, record.prev_link, record.events, content);
          }
        }
      });
  if (!s.is_ok()) {
    return s;
  }
  return links;
}

size_t AgentVerifier::record_of(size_t event) const {
  // The last record whose events start at or before it (records without events share a start).
  return static_cast<size_t>(std::upper_bound(first_event_.begin(), first_event_.end(), event) -
                             first_event_.begin()) -
         1;
}

std::string AgentVerifier::batch_name(size_t r) const {
  const ChainRecord& record = records_[r].record;
  return "batch " + std::to_string(record.seq) + " (stream " + stream_hex(record.stream) + ")";
}

std::string AgentVerifier::describe_event(size_t event) const {
  const size_t r = record_of(event);
  return "event " + std::to_string(event - first_event_[r] + 1) + " of " + batch_name(r);
}

void AgentVerifier::report_alignment(const std::string& path, const Alignment& alignment,
                                     const EventsFileLines& lines) {
  auto why = [&](size_t line) -> std::string {
    auto it = lines.errors.find(line);
    return it == lines.errors.end() ? "" : "; the line does not decode: " + it->second;
  };
  for (const AlignFinding& a : alignment.findings) {
    const uint64_t line = a.line + 1;
    switch (a.kind) {
      case AlignFinding::Kind::kAltered:
        note(Finding{path, line, FindingKind::kAltered,
                     "does not match " + describe_event(a.event) + why(a.line)});
        break;
      case AlignFinding::Kind::kInserted:
        note(Finding{path, line, FindingKind::kInserted,
                     a.count == 1
                         ? "this line belongs to no batch" + why(a.line)
                         : "lines " + std::to_string(line) + " to " +
                               std::to_string(line + a.count - 1) + " belong to no batch"});
        break;
      case AlignFinding::Kind::kReordered:
        note(Finding{path, line, FindingKind::kReordered,
                     "this line and line " + std::to_string(line + 1) + " are swapped (" +
                         describe_event(a.event + 1) + " and " + describe_event(a.event) + ")"});
        break;
      case AlignFinding::Kind::kRemoved:
        // One finding per batch the missing events belong to.
        for (size_t e = a.event; e < a.event + a.count;) {
          const size_t r = record_of(e);
          const size_t end =
              std::min(a.event + a.count, first_event_[r] + records_[r].record.events);
          note(Finding{path, line, FindingKind::kRemoved,
                       end - e == 1 ? describe_event(e) + " is missing before this line"
                                    : "events " + std::to_string(e - first_event_[r] + 1) + " to " +
                                          std::to_string(end - first_event_[r]) + " of " +
                                          batch_name(r) + " are missing before this line"});
          e = end;
        }
        break;
      case AlignFinding::Kind::kFileEnds: {
        if (lines.cut) {
          break;  // the file does not end there: verify stopped reading it (reported)
        }
        const ChainRecord& first = records_[record_of(a.event)].record;
        const ChainRecord& last = records_[record_of(a.event + a.count - 1)].record;
        std::string batches =
            &first == &last
                ? "batch " + std::to_string(first.seq) + " (stream " + stream_hex(first.stream) +
                      ") expects"
                : "batches " + std::to_string(first.seq) + " to " + std::to_string(last.seq) +
                      (first.stream == last.stream ? " (stream " + stream_hex(first.stream) + ")"
                                                   : std::string(" (several streams)")) +
                      " expect";
        note(Finding{path, line, FindingKind::kRemoved,
                     "the file ends; " + batches + " " + std::to_string(a.count) + " more " +
                         (a.count == 1 ? "line" : "lines")});
        break;
      }
    }
  }
}

}  // namespace

Result<AgentReport> verify_agent_dir(const std::string& agent_dir, const TrustedCa* ca,
                                     const VerifyLimits& limits) {
  std::string dir = agent_dir;
  while (dir.size() > 1 && dir.back() == '/') {
    dir.pop_back();
  }
  return AgentVerifier(dir, ca, limits).run();
}

}  // namespace assas::ingest
