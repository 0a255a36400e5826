#include "ingest/verify/chain_file.h"

#include <cinttypes>
#include <cstdio>

#include "ingest/verify/line_reader.h"

namespace assas::ingest {

Result<std::vector<LocatedRecord>> read_chain_file(const std::string& path, size_t max_line_bytes,
                                                   uint32_t max_batch_events,
                                                   const std::function<void(Finding)>& note) {
  Result<std::unique_ptr<LineReader>> reader = LineReader::open(path, max_line_bytes);
  if (!reader.is_ok()) {
    return reader.status();
  }
  const std::string_view header = kChainFileHeader.substr(0, kChainFileHeader.size() - 1);
  std::vector<LocatedRecord> records;
  while (true) {
    std::string_view line;
    Result<LineReader::Kind> kind = (*reader)->next(line);
    if (!kind.is_ok()) {
      return kind.status();
    }
    if (*kind == LineReader::Kind::kEnd) {
      break;
    }
    const uint64_t number = (*reader)->line_number();
    auto damaged = [&](std::string details) {
      note(Finding{path, number, FindingKind::kDamaged, std::move(details)});
    };
    if (*kind == LineReader::Kind::kTooLong) {
      damaged("a line longer than any chain record (not read)");
      continue;
    }
    if (*kind == LineReader::Kind::kUnterminated) {
      damaged("the file ends inside this line (cut short)");
      continue;
    }
    if (number == 1 && line == header) {
      continue;
    }
    Result<ChainRecord> record = parse_chain_record(line, max_batch_events);
    if (number == 1) {
      // Still read a record that lost the header above it.
      damaged("the first line is not \"" + std::string(header) + "\"");
    }
    if (!record.is_ok()) {
      if (number != 1) {
        damaged("not a chain record: " + record.status().message());
      }
      continue;
    }
    records.push_back(LocatedRecord{std::move(record).value(), number});
  }
  return records;
}

std::string stream_hex(uint64_t stream) {
  char text[20];
  std::snprintf(text, sizeof text, "%016" PRIx64, stream);
  return text;
}

}  // namespace assas::ingest
