#include "ingest/verify/events_file.h"

#include "ingest/verify/line_reader.h"

namespace assas::ingest {
namespace {

// Enough reasons for every finding printed, bounded for a file where no line decodes.
constexpr size_t kMaxErrorsKept = 1000;

}  // namespace

Result<EventsFileLines> fingerprint_events_file(const std::string& path, size_t max_line_bytes,
                                                size_t max_lines) {
  Result<std::unique_ptr<LineReader>> reader = LineReader::open(path, max_line_bytes);
  if (!reader.is_ok()) {
    return reader.status();
  }
  EventsFileLines out;
  StoredEvent event;
  std::string canonical;
  auto fail = [&](size_t line, std::string why) {
    out.lines.push_back(LineFingerprint{});
    if (out.errors.size() < kMaxErrorsKept) {
      out.errors.emplace(line, std::move(why));
    }
  };
  while (true) {
    std::string_view line;
    Result<LineReader::Kind> kind = (*reader)->next(line);
    if (!kind.is_ok()) {
      return kind.status();
    }
    const size_t index = out.lines.size();
    if (index == max_lines && *kind != LineReader::Kind::kEnd) {
      out.cut = true;
      return out;
    }
    switch (*kind) {
      case LineReader::Kind::kEnd:
        return out;
      case LineReader::Kind::kTooLong:
        fail(index, "it is longer than " + std::to_string(max_line_bytes >> 20) +
                        " MiB, more than verify reads");
        continue;
      case LineReader::Kind::kUnterminated:
        fail(index, "the file ends inside it (cut short)");
        continue;
      case LineReader::Kind::kLine:
        break;
    }
    Status s = event.decode(line);
    if (!s.is_ok()) {
      fail(index, s.message());
      continue;
    }
    canonical.clear();
    transport::append_canonical_event(canonical, event.view());
    out.lines.push_back(LineFingerprint{transport::event_fingerprint(canonical), true});
  }
}

Status read_events(const std::string& path, size_t max_line_bytes, std::span<const uint8_t> wanted,
                   const std::function<void(size_t, const StoredEvent*)>& on_line) {
  Result<std::unique_ptr<LineReader>> reader = LineReader::open(path, max_line_bytes);
  if (!reader.is_ok()) {
    return reader.status();
  }
  StoredEvent event;
  for (size_t index = 0; index < wanted.size(); ++index) {
    std::string_view line;
    Result<LineReader::Kind> kind = (*reader)->next(line);
    if (!kind.is_ok()) {
      return kind.status();
    }
    if (*kind == LineReader::Kind::kEnd) {
      // Shorter than in the first pass: the lines left are gone.
      for (; index < wanted.size(); ++index) {
        if (wanted[index]) {
          on_line(index, nullptr);
        }
      }
      break;
    }
    if (!wanted[index]) {
      continue;
    }
    const bool ok = *kind == LineReader::Kind::kLine && event.decode(line).is_ok();
    on_line(index, ok ? &event : nullptr);
  }
  return Status::ok();
}

}  // namespace assas::ingest
