#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/config_node.h"
#include "base/status.h"

namespace assas::collectors {

// Where a journal collector without a saved cursor starts.
enum class JournalStartAt : uint8_t { kBeginning, kEnd, kCursor };

// The keys of a `type: journal` collector (docs/collectors/journal.md).
struct JournalCollectorConfig {
  std::string name;
  std::string directory;  // empty: the local system journal
  // "FIELD=value", numeric ranges already expanded; same field OR-ed, different fields AND-ed.
  std::vector<std::string> matches;
  // "_SYSTEMD_UNIT=<unit>", OR-ed with each other and AND-ed with `matches`.
  std::vector<std::string> units;
  JournalStartAt start_at = JournalStartAt::kEnd;
  std::string cursor;  // with start_at: cursor, read from the entry after it
  // Journal fields kept as event fields besides MESSAGE (which is the message).
  std::vector<std::string> fields = {
      "PRIORITY", "SYSLOG_IDENTIFIER", "_PID",      "_UID",    "_COMM",
      "_EXE",     "_SYSTEMD_UNIT",     "_HOSTNAME", "_BOOT_ID"};
  bool all_fields = false;
  uint64_t max_entry_size_bytes = 1ULL << 20;  // longer values are cut and marked `truncated`
};

Result<JournalCollectorConfig> parse_journal_collector_config(const ConfigNode& node,
                                                              const std::string& name);

}  // namespace assas::collectors
