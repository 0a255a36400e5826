#include "collectors/journal/journal_event_builder.h"

#include <cstdio>
#include <ctime>

namespace assas::collectors {

std::string format_journal_time(uint64_t realtime_usec) {
  auto seconds = static_cast<time_t>(realtime_usec / 1000000);
  tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  int n = std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ",
                        utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                        utc.tm_sec, static_cast<unsigned>(realtime_usec % 1000000));
  return std::string(text, n > 0 ? static_cast<size_t>(n) : 0);
}

const agent::Event& JournalEventBuilder::build(const JournalEntry& entry, int64_t read_time_ns) {
  fields_.clear();
  truncated_.clear();
  event_.message = std::string_view();
  bool has_message = false;
  for (const JournalField& field : entry.fields) {
    // A journal field may repeat; a second MESSAGE stays a field, so that no value is lost.
    if (field.name == "MESSAGE" && !has_message) {
      event_.message = field.value;
      has_message = true;
    } else {
      fields_.emplace_back(field.name, field.value);
    }
    if (field.truncated) {
      truncated_ += truncated_.empty() ? "" : ",";
      truncated_ += field.name;
    }
  }
  if (entry.realtime_usec != 0) {
    origin_time_ = format_journal_time(entry.realtime_usec);
    fields_.emplace_back("origin_time", origin_time_);
  }
  if (!truncated_.empty()) {
    fields_.emplace_back("truncated", truncated_);
  }
  event_.time_ns = read_time_ns;
  event_.offset = entry.seqnum;
  event_.fields = fields_;
  event_.next.offset = 0;
  event_.next.token = entry.cursor;
  return event_;
}

}  // namespace assas::collectors
