#pragma once

// What the agent and the reader need to know from a journal cursor: the sequence number of its
// entry and the id of that numbering. sd-journal calls cursors opaque, but their text has been
// "s=<seqnum id>;i=<seqnum, hex>;b=...;m=...;t=...;x=..." since the first release, and libsystemd
// 252 has no sd_journal_get_seqnum (it came in 254): parsing is the only way to get either. Pure
// code.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace assas::collectors {

struct JournalSeqnum {
  std::string seqnum_id;  // 32 hex digits; one journald instance numbers its entries with one id
  uint64_t seqnum = 0;
};

// nullopt if the cursor lacks either part.
std::optional<JournalSeqnum> parse_journal_cursor(std::string_view cursor);

// Entries lost between the entry of a saved cursor (`saved`) and the first entry read after it
// (`resumed`): known only when both are numbered by the same id. 0 when they are adjacent.
std::optional<uint64_t> journal_entries_lost(const JournalSeqnum& saved,
                                             const JournalSeqnum& resumed);

}  // namespace assas::collectors
