#pragma once

// Turns a journal entry into the agent's Event: MESSAGE is the message (any bytes; an entry
// without one has an empty message; of several, the first, and the others stay fields named
// MESSAGE), every other kept field an event field under its journal name,
// __REALTIME_TIMESTAMP the field `origin_time` (RFC 3339, UTC, microseconds), the names of cut
// values the field `truncated`, and the entry's sequence number the event offset. Pure code.
//
// The event it returns points into the entry and into the builder: both must outlive the push.

#include <cstdint>
#include <string>
#include <vector>

#include "agent/event.h"
#include "collectors/journal/journal_wire.h"

namespace assas::collectors {

// 2026-11-29T21:39:19.123456Z
std::string format_journal_time(uint64_t realtime_usec);

class JournalEventBuilder {
 public:
  JournalEventBuilder() = default;
  JournalEventBuilder(const JournalEventBuilder&) = delete;
  JournalEventBuilder& operator=(const JournalEventBuilder&) = delete;

  const agent::Event& build(const JournalEntry& entry, int64_t read_time_ns);

 private:
  agent::Event event_;
  std::vector<agent::FieldView> fields_;
  std::string origin_time_;
  std::string truncated_;
};

}  // namespace assas::collectors
