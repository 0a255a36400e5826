#pragma once

// What the agent tells the journal reader child, and how it travels: as the child's argv after
// `--journal-reader`. Both directions live here so that they cannot drift apart. Pure code.

#include <cstdint>
#include <string>
#include <vector>

#include <sys/types.h>

#include "base/status.h"

namespace assas::collectors {

enum class JournalStart : uint8_t {
  kHead,         // the oldest entry
  kTail,         // only entries written from now on
  kAfterCursor,  // the entry after `cursor`
};

struct JournalReaderOptions {
  pid_t parent = 0;       // the agent: the child exits when it is no longer its parent
  std::string directory;  // empty: the local system journal
  // Groups AND-ed with each other (sd_journal_add_conjunction); inside a group, "FIELD=value"
  // matches on one field are OR-ed and on different fields AND-ed (sd_journal_add_match).
  std::vector<std::vector<std::string>> match_groups;
  JournalStart start = JournalStart::kTail;
  std::string cursor;               // kAfterCursor
  std::vector<std::string> fields;  // kept besides MESSAGE
  bool all_fields = false;
  uint64_t max_field_bytes = 1ULL << 20;  // longer values are cut and marked
  std::string log_level = "info";

  bool operator==(const JournalReaderOptions&) const = default;
};

// The arguments that follow "--journal-reader".
std::vector<std::string> journal_reader_args(const JournalReaderOptions& options);
Result<JournalReaderOptions> parse_journal_reader_args(const std::vector<std::string>& args);

}  // namespace assas::collectors
