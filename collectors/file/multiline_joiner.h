#pragma once

// Joins the lines of one event that spans several (a Java stack trace, a Python traceback, a Go
// panic): a line matching the start pattern begins an event, and every following line that does
// not match is a continuation, joined with '\n'. An event ends when the next start line comes,
// when it reaches max_lines or max_bytes (the next line then begins a new event, so nothing is
// dropped), or when the caller's timeout fires (no new line for a while).
//
// The caller drives it line by line with the same refuse-and-retry protocol as the splitter: ask
// must_send_before(line); if so, push pending() and clear() before add(line). Pure; no I/O.

#include <cstdint>
#include <string>
#include <string_view>

#include "collectors/file/file_collector_config.h"
#include "collectors/file/line_splitter.h"

namespace assas::collectors {

struct JoinedEvent {
  std::string_view text;     // the lines, joined with '\n'
  uint64_t offset = 0;       // of the first line
  uint64_t next_offset = 0;  // after the last line's newline
  uint32_t lines = 0;
};

class MultilineJoiner {
 public:
  explicit MultilineJoiner(const MultilineConfig& config) : config_(config) {}

  // The pending event is complete and must be sent before line can be added.
  bool must_send_before(const Line& line) const;
  void add(const Line& line);
  // Begins the event with lines read elsewhere (a file rotated away); must be empty.
  void add_carried(std::string_view text, uint64_t offset, uint32_t lines);
  // line begins an event of its own (matches the start pattern).
  bool starts_event(const Line& line) const { return config_.start->matches(line.text); }
  bool empty() const { return lines_ == 0; }
  JoinedEvent pending() const { return JoinedEvent{text_, offset_, next_offset_, lines_}; }
  void clear();

 private:
  const MultilineConfig& config_;
  std::string text_;
  uint64_t offset_ = 0;
  uint64_t next_offset_ = 0;
  uint32_t lines_ = 0;
};

}  // namespace assas::collectors
