#include "collectors/journal/journal_cursor.h"

#include <charconv>

namespace assas::collectors {

std::optional<JournalSeqnum> parse_journal_cursor(std::string_view cursor) {
  JournalSeqnum out;
  bool have_id = false;
  bool have_seqnum = false;
  while (!cursor.empty()) {
    size_t semicolon = cursor.find(';');
    std::string_view part = cursor.substr(0, semicolon);
    cursor =
        semicolon == std::string_view::npos ? std::string_view() : cursor.substr(semicolon + 1);
    if (part.size() < 3 || part[1] != '=') {
      continue;
    }
    std::string_view value = part.substr(2);
    if (part[0] == 's') {
      out.seqnum_id.assign(value);
      have_id = !value.empty();
    } else if (part[0] == 'i') {
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out.seqnum, 16);
      have_seqnum = ec == std::errc() && end == value.data() + value.size();
    }
  }
  if (!have_id || !have_seqnum) {
    return std::nullopt;
  }
  return out;
}

std::optional<uint64_t> journal_entries_lost(const JournalSeqnum& saved,
                                             const JournalSeqnum& resumed) {
  if (saved.seqnum_id != resumed.seqnum_id) {
    return std::nullopt;
  }
  return resumed.seqnum > saved.seqnum + 1 ? resumed.seqnum - saved.seqnum - 1 : 0;
}

}  // namespace assas::collectors
