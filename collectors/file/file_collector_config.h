#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "base/config_node.h"
#include "base/status.h"

namespace assas::collectors {

// The keys of a `type: file` collector (docs/collectors/file.md).
struct FileCollectorConfig {
  std::string name;
  std::vector<std::string> paths;   // glob patterns
  bool start_at_beginning = false;  // for files found at start-up without a saved position
  std::vector<std::pair<std::string, std::string>> fields;
  uint64_t max_line_bytes = 1ULL << 20;
  bool strip_cr = false;  // CRLF lines arrive byte-exact unless this is set
  uint64_t read_buffer_bytes = 256ULL << 10;
  std::chrono::milliseconds stat_interval{1000};
  std::chrono::milliseconds rescan_interval{5000};
};

Result<FileCollectorConfig> parse_file_collector_config(const ConfigNode& node,
                                                        const std::string& name);

}  // namespace assas::collectors
