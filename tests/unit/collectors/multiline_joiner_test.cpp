// The multiline joiner and its PCRE2 start pattern.

#include "collectors/file/multiline_joiner.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "collectors/file/line_pattern.h"

namespace assas::collectors {
namespace {

MultilineConfig config(const std::string& start, uint32_t max_lines = 500,
                       uint64_t max_bytes = 1 << 20) {
  Result<std::shared_ptr<const LinePattern>> pattern = LinePattern::compile(start);
  REQUIRE(pattern.is_ok());
  MultilineConfig c;
  c.start = std::move(pattern).value();
  c.max_lines = max_lines;
  c.max_bytes = max_bytes;
  return c;
}

// Runs lines through a joiner the way FileTail does; returns the events, the last one flushed.
std::vector<JoinedEvent> join(const MultilineConfig& c, const std::vector<std::string>& lines,
                              std::vector<std::string>& texts) {
  MultilineJoiner joiner(c);
  std::vector<JoinedEvent> events;
  uint64_t offset = 0;
  for (const std::string& text : lines) {
    Line line{text, offset, offset + text.size() + 1};
    offset = line.next_offset;
    if (joiner.must_send_before(line)) {
      events.push_back(joiner.pending());
      texts.emplace_back(joiner.pending().text);
      joiner.clear();
    }
    joiner.add(line);
  }
  if (!joiner.empty()) {
    events.push_back(joiner.pending());
    texts.emplace_back(joiner.pending().text);
  }
  return events;
}

}  // namespace

TEST_CASE("continuation lines join the line that starts their event", "[multiline]") {
  std::vector<std::string> texts;
  std::vector<JoinedEvent> events =
      join(config("^\\d{4} "), {"2026 a", "\tat x", "\tat y", "2026 b", "2026 c", "Caused by: z"},
           texts);
  REQUIRE(texts ==
          std::vector<std::string>{"2026 a\n\tat x\n\tat y", "2026 b", "2026 c\nCaused by: z"});
  REQUIRE(events[0].offset == 0);
  REQUIRE(events[0].next_offset == 19);  // 7 + 6 + 6 bytes with their newlines
  REQUIRE(events[0].lines == 3);
  REQUIRE(events[1].offset == 19);
}

TEST_CASE("max_lines and max_bytes end an event without dropping a line", "[multiline]") {
  std::vector<std::string> texts;
  join(config("^S", 3), {"S1", "c", "c", "c", "c", "S2"}, texts);
  REQUIRE(texts == std::vector<std::string>{"S1\nc\nc", "c\nc", "S2"});
  texts.clear();
  join(config("^S", 500, 1024), {"S", std::string(600, 'a'), std::string(600, 'b')}, texts);
  REQUIRE(texts.size() == 2);
  REQUIRE(texts[0] == "S\n" + std::string(600, 'a'));
  REQUIRE(texts[1] == std::string(600, 'b'));
}

TEST_CASE("an event begun in a rotated file carries on in the next", "[multiline]") {
  MultilineConfig c = config("^S");
  MultilineJoiner joiner(c);
  joiner.add_carried("S begun\n\tat a", 900, 2);
  Line line{"\tat b", 0, 6};
  REQUIRE_FALSE(joiner.must_send_before(line));
  joiner.add(line);
  REQUIRE(joiner.pending().text == "S begun\n\tat a\n\tat b");
  REQUIRE(joiner.pending().offset == 900);
  REQUIRE(joiner.pending().next_offset == 6);
  REQUIRE(joiner.pending().lines == 3);
}

TEST_CASE("start patterns are PCRE2: invalid ones are explained, hostile lines cost bounded time",
          "[multiline]") {
  Result<std::shared_ptr<const LinePattern>> bad = LinePattern::compile("^(\\d+");
  REQUIRE_FALSE(bad.is_ok());
  REQUIRE_THAT(bad.status().message(), Catch::Contains("invalid regular expression at offset"));
  // Catastrophic backtracking on a long line: stopped by the match limit, counted as no match.
  Result<std::shared_ptr<const LinePattern>> evil = LinePattern::compile("^(a+)+$");
  REQUIRE(evil.is_ok());
  REQUIRE_FALSE((*evil)->matches(std::string(5000, 'a') + "b"));
  // Bytes, not UTF-8: invalid sequences do not make matching fail.
  Result<std::shared_ptr<const LinePattern>> date = LinePattern::compile("^\\d{4}-\\d{2}");
  REQUIRE(date.is_ok());
  REQUIRE((*date)->matches("2026-11 \xff\xfe"));
  REQUIRE_FALSE(
      (*date)->matches("\xff"
                       "2026-11"));
}

}  // namespace assas::collectors
