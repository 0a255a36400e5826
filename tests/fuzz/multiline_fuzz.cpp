// Lines of a log file (collectors/file/line_splitter.h) joined into multiline events
// (multiline_joiner.h), as the file collector drives them: the file's bytes are anyone's who can
// write to it. The input is the limits (max_line_bytes, max_lines, max_bytes, strip_cr,
// truncate_long), the start pattern (one of a fixed set, or the fuzzer's own text when it
// compiles), split points, then the file. Properties: every line is the file's bytes at its
// offset, within max_line_bytes; every joined event is exactly its lines joined by LF, within
// max_lines and (unless a single line) max_bytes, and only its first line matches the start
// pattern; no line is lost.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/file/line_pattern.h"
#include "collectors/file/line_splitter.h"
#include "collectors/file/multiline_joiner.h"
#include "tests/fuzz/fuzz_support.h"

namespace co = assas::collectors;

namespace {

using PatternPtr = std::shared_ptr<const co::LinePattern>;

PatternPtr fixed_pattern(uint8_t choice) {
  static const std::vector<PatternPtr> patterns = [] {
    std::vector<PatternPtr> out;
    for (const char* text : {R"(^\S)", R"(^\d{4}-\d{2}-\d{2})", R"(^\[)", R"(^(?!\s|Caused by))",
                             R"(^(Traceback|goroutine \d+ \[))", R"(^[A-Z][a-z]{2} [ \d]\d )"}) {
      out.push_back(*co::LinePattern::compile(text));
    }
    return out;
  }();
  return patterns[choice % patterns.size()];
}

// What the joiner holds, kept apart to check each event against its lines.
struct Expected {
  std::vector<std::string> lines;
  uint64_t offset = 0;
  uint64_t next_offset = 0;
};

class Driver {
 public:
  Driver(std::string_view file, const co::MultilineConfig& config)
      : file_(file), config_(config), joiner_(config) {}

  void line(const co::Line& line, size_t max_line_bytes) {
    ASSAS_FUZZ_CHECK(line.text.size() <= max_line_bytes);
    ASSAS_FUZZ_CHECK(line.offset <= file_.size() && line.next_offset <= file_.size());
    ASSAS_FUZZ_CHECK(file_.substr(line.offset, line.text.size()) == line.text);
    ++lines_in_;
    if (line.part > 0 || line.partial || line.truncated_from > 0) {
      // As the file collector does: pieces, truncated and flushed lines are events of their own.
      send();
      ++lines_out_;
      return;
    }
    if (joiner_.must_send_before(line)) {
      send();
    } else if (!joiner_.empty()) {
      // A continuation never matches the start pattern.
      ASSAS_FUZZ_CHECK(!joiner_.starts_event(line));
    }
    joiner_.add(line);
    if (held_.lines.empty()) {
      held_.offset = line.offset;
    }
    held_.lines.emplace_back(line.text);
    held_.next_offset = line.next_offset;
  }

  void send() {
    if (joiner_.empty()) {
      ASSAS_FUZZ_CHECK(held_.lines.empty());
      return;
    }
    co::JoinedEvent event = joiner_.pending();
    std::string joined;
    for (size_t i = 0; i < held_.lines.size(); ++i) {
      joined += i == 0 ? "" : "\n";
      joined += held_.lines[i];
    }
    ASSAS_FUZZ_CHECK(event.text == joined);
    ASSAS_FUZZ_CHECK(event.lines == held_.lines.size());
    ASSAS_FUZZ_CHECK(event.offset == held_.offset && event.next_offset == held_.next_offset);
    ASSAS_FUZZ_CHECK(event.lines <= config_.max_lines);
    ASSAS_FUZZ_CHECK(event.lines == 1 || event.text.size() <= config_.max_bytes);
    lines_out_ += event.lines;
    joiner_.clear();
    held_ = Expected();
  }

  void finish() {
    send();
    ASSAS_FUZZ_CHECK(lines_in_ == lines_out_);
  }

 private:
  std::string_view file_;
  const co::MultilineConfig& config_;
  co::MultilineJoiner joiner_;
  Expected held_;
  uint64_t lines_in_ = 0;
  uint64_t lines_out_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  assas::fuzz::FuzzInput in(data, size);
  size_t max_line_bytes = 1 + in.byte() % 128;
  uint8_t flags = in.byte();
  co::MultilineConfig config;
  config.max_lines = 1 + in.byte() % 16;
  config.max_bytes = 1 + in.u16() % 1024;
  uint8_t choice = in.byte();
  std::string_view own = in.sized(32);
  config.start = fixed_pattern(choice);
  if (choice >= 200) {
    // The fuzzer's own pattern (a config is trusted, but the matcher's limits must hold on any
    // line whatever the pattern).
    assas::Result<PatternPtr> compiled = co::LinePattern::compile(own);
    if (compiled.is_ok()) {
      config.start = *compiled;
    }
  }
  std::string_view splits = in.sized(32);
  std::string_view file = in.rest();

  co::LineSplitter splitter(max_line_bytes, (flags & 1) != 0, (flags & 2) != 0);
  splitter.reset(0);
  Driver driver(file, config);
  std::string_view left = file;
  co::Line line;
  for (size_t i = 0; !left.empty(); ++i) {
    size_t n = i < splits.size() ? 1 + static_cast<uint8_t>(splits[i]) : left.size();
    std::string_view chunk = left.substr(0, n);
    left.remove_prefix(chunk.size());
    splitter.feed(chunk);
    while (splitter.peek(line)) {
      driver.line(line, max_line_bytes);
      splitter.consume();
    }
    // Now and then the partial-line timeout fires.
    if ((flags & 4) != 0 && i % 3 == 2 && splitter.take_partial(line)) {
      driver.line(line, max_line_bytes);
      splitter.consume();
    }
  }
  if (splitter.take_partial(line)) {
    driver.line(line, max_line_bytes);
    splitter.consume();
  }
  driver.finish();
  return 0;
}
