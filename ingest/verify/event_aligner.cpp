#include "ingest/verify/event_aligner.h"

#include <algorithm>
#include <optional>
#include <utility>

namespace assas::ingest {
namespace {

// How far the short search looks (lines skipped plus events skipped) before the long one, and
// how many equal fingerprints the long one tries: enough for honest duplicates, bounded for
// hostile files full of them.
constexpr size_t kShortSearch = 16;
constexpr size_t kMaxCandidates = 8;

using Index = std::vector<std::pair<uint32_t, size_t>>;  // (fingerprint, position), sorted

class Aligner {
 public:
  Aligner(std::span<const LineFingerprint> lines, std::span<const uint32_t> expected)
      : lines_(lines), expected_(expected) {
    out_.line_of_event.assign(expected.size(), -1);
    for (size_t j = 0; j < lines.size(); ++j) {
      if (lines[j].decoded) {
        line_index_.emplace_back(lines[j].fingerprint, j);
      }
    }
    for (size_t i = 0; i < expected.size(); ++i) {
      event_index_.emplace_back(expected[i], i);
    }
    std::sort(line_index_.begin(), line_index_.end());
    std::sort(event_index_.begin(), event_index_.end());
  }

  Alignment run() && {
    size_t j = 0;
    size_t i = 0;
    while (i < expected_.size() && j < lines_.size()) {
      if (match(j, i)) {
        out_.line_of_event[i] = static_cast<int64_t>(j);
        ++i;
        ++j;
      } else if (match(j, i + 1) && match(j + 1, i)) {
        emit(AlignFinding::Kind::kReordered, j, i, 1);
        i += 2;
        j += 2;
      } else if (match(j, i + 1)) {
        emit(AlignFinding::Kind::kRemoved, j, i, 1);
        i += 1;
      } else if (match(j + 1, i)) {
        emit(AlignFinding::Kind::kInserted, j, 0, 1);
        j += 1;
      } else if (!short_search(j, i) && !long_search(j, i)) {
        emit(AlignFinding::Kind::kAltered, j, i, 1);
        ++i;
        ++j;
      }
    }
    if (i < expected_.size()) {
      emit(AlignFinding::Kind::kFileEnds, lines_.size(), i, expected_.size() - i);
    }
    if (j < lines_.size()) {
      emit(AlignFinding::Kind::kInserted, j, 0, lines_.size() - j);
    }
    return std::move(out_);
  }

 private:
  bool match(size_t j, size_t i) const {
    return j < lines_.size() && i < expected_.size() && lines_[j].decoded &&
           lines_[j].fingerprint == expected_[i];
  }
  // The pair after a candidate agrees too (or one side has ended): one chance in 2^32 of a false
  // fingerprint match is fine for one line, not for where to jump.
  bool confirmed(size_t j, size_t i) const {
    return j >= lines_.size() || i >= expected_.size() || match(j, i);
  }

  // Lines j..j+d-1 and events i..i+e-1 do not pair, and line j+d holds event i+e: pairs them up
  // as altered lines, then inserted lines or removed events.
  void skip(size_t& j, size_t& i, size_t d, size_t e) {
    size_t both = std::min(d, e);
    for (size_t k = 0; k < both; ++k) {
      emit(AlignFinding::Kind::kAltered, j + k, i + k, 1);
    }
    if (d > both) {
      emit(AlignFinding::Kind::kInserted, j + both, 0, d - both);
    }
    if (e > both) {
      emit(AlignFinding::Kind::kRemoved, j + d, i + both, e - both);
    }
    j += d;
    i += e;
  }

  // A few lines or events out: the smallest total skip wins, and altered lines (as many lines
  // as events) before removed or inserted ones.
  bool short_search(size_t& j, size_t& i) {
    for (size_t total = 2; total <= kShortSearch; ++total) {
      if (total % 2 == 0 && match(j + total / 2, i + total / 2) &&
          confirmed(j + total / 2 + 1, i + total / 2 + 1)) {
        skip(j, i, total / 2, total / 2);
        return true;
      }
      for (size_t d = 0; d <= total; ++d) {
        size_t e = total - d;
        if (d != e && match(j + d, i + e) && confirmed(j + d + 1, i + e + 1)) {
          skip(j, i, d, e);
          return true;
        }
      }
    }
    return false;
  }

  // A whole batch out (its lines deleted, or its chain record): the next place where event i
  // appears, or where line j's event is expected, whichever is nearer.
  bool long_search(size_t& j, size_t& i) {
    std::optional<size_t> line =
        find(line_index_, expected_[i], j + 1, [&](size_t l) { return confirmed(l + 1, i + 1); });
    std::optional<size_t> event;
    if (lines_[j].decoded) {
      event = find(event_index_, lines_[j].fingerprint, i + 1,
                   [&](size_t e) { return confirmed(j + 1, e + 1); });
    }
    if (line && (!event || *line - j <= *event - i)) {
      skip(j, i, *line - j, 0);
      return true;
    }
    if (event) {
      skip(j, i, 0, *event - i);
      return true;
    }
    return false;
  }

  template <typename Confirm>
  static std::optional<size_t> find(const Index& index, uint32_t fingerprint, size_t from,
                                    Confirm confirm) {
    auto it = std::lower_bound(index.begin(), index.end(), std::make_pair(fingerprint, from));
    for (size_t tried = 0; it != index.end() && it->first == fingerprint && tried < kMaxCandidates;
         ++it, ++tried) {
      if (confirm(it->second)) {
        return it->second;
      }
    }
    return std::nullopt;
  }

  // Adds a finding, merging a run of single removed events or inserted lines into one.
  void emit(AlignFinding::Kind kind, size_t line, size_t event, size_t count) {
    if (!out_.findings.empty()) {
      AlignFinding& last = out_.findings.back();
      if (kind == AlignFinding::Kind::kInserted && last.kind == kind &&
          last.line + last.count == line) {
        last.count += count;
        return;
      }
      if (kind == AlignFinding::Kind::kRemoved && last.kind == kind && last.line == line &&
          last.event + last.count == event) {
        last.count += count;
        return;
      }
    }
    out_.findings.push_back(AlignFinding{kind, line, event, count});
  }

  std::span<const LineFingerprint> lines_;
  std::span<const uint32_t> expected_;
  Index line_index_;
  Index event_index_;
  Alignment out_;
};

}  // namespace

Alignment align_events(std::span<const LineFingerprint> lines, std::span<const uint32_t> expected) {
  return Aligner(lines, expected).run();
}

}  // namespace assas::ingest
