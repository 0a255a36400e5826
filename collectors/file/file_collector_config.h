#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/config_node.h"
#include "base/status.h"
#include "collectors/file/line_pattern.h"

namespace assas::collectors {

// What to do with a line longer than max_line_bytes.
enum class LongLines : uint8_t {
  kSplit,     // in pieces of max_line_bytes, each marked with the field `split_part`
  kTruncate,  // the first max_line_bytes, marked with `truncated_from` (the full length)
};

// Joins continuation lines (stack traces) to the line that starts an event.
struct MultilineConfig {
  std::shared_ptr<const LinePattern> start;  // null: multiline off
  uint32_t max_lines = 500;
  uint64_t max_bytes = 1ULL << 20;
  std::chrono::milliseconds timeout{1000};  // an event with no new line for this long is sent
};

// The keys of a `type: file` collector (docs/collectors/file.md).
struct FileCollectorConfig {
  std::string name;
  std::vector<std::string> paths;    // glob patterns
  std::vector<std::string> exclude;  // fnmatch patterns, on the full path or the file name
  bool start_at_beginning = false;   // for files found at start-up without a saved position
  std::vector<std::pair<std::string, std::string>> fields;
  uint64_t max_line_bytes = 1ULL << 20;
  LongLines long_lines = LongLines::kSplit;
  bool strip_cr = false;  // CRLF lines arrive byte-exact unless this is set
  uint64_t read_buffer_bytes = 256ULL << 10;
  std::chrono::milliseconds stat_interval{1000};
  std::chrono::milliseconds rescan_interval{5000};
  // A last line without its newline is sent after this long (0: held until the newline comes).
  std::chrono::milliseconds partial_line_timeout{5000};
  uint32_t max_open_files = 1024;
  std::chrono::milliseconds close_inactive{std::chrono::minutes(5)};
  // A file that left the glob (rotated away, deleted) is let go after it was idle this long.
  std::chrono::milliseconds rotate_wait{5000};
  // The checkpoint of a file that is gone is forgotten after this long.
  std::chrono::milliseconds forget_after{std::chrono::hours(24)};
  MultilineConfig multiline;
};

Result<FileCollectorConfig> parse_file_collector_config(const ConfigNode& node,
                                                        const std::string& name);

}  // namespace assas::collectors
