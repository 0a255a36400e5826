// The line splitter: byte-exact lines with exact offsets, whatever the chunking.

#include "collectors/file/line_splitter.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace assas::collectors {
namespace {

struct Cut {
  std::string text;
  uint64_t offset;
  uint64_t next_offset;
  bool piece;
  bool operator==(const Cut&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Cut& c) {
  return os << "{" << c.text << " @" << c.offset << ".." << c.next_offset
            << (c.piece ? " piece" : "") << "}";
}

// Feeds data in chunks of `step` bytes, as reads of a growing file would.
std::vector<Cut> split(const std::string& data, size_t step, size_t max_line = 1024,
                       bool strip_cr = false) {
  LineSplitter splitter(max_line, strip_cr);
  splitter.reset(0);
  std::vector<Cut> cuts;
  for (size_t at = 0; at < data.size(); at += step) {
    splitter.feed(std::string_view(data).substr(at, step));
    Line line;
    while (splitter.peek(line)) {
      cuts.push_back(Cut{std::string(line.text), line.offset, line.next_offset, line.piece()});
      splitter.consume();
    }
  }
  return cuts;
}

}  // namespace

TEST_CASE("lines are cut at newlines, byte-exact, with CRLF kept and exact offsets", "[lines]") {
  std::string data = std::string("one\r\n\ntwo\0bin\n", 14) + "partial";
  std::vector<Cut> expected{
      {"one\r", 0, 5, false}, {"", 5, 6, false}, {std::string("two\0bin", 7), 6, 14, false}};
  for (size_t step : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, data.size()}) {
    INFO("chunk size " << step);
    REQUIRE(split(data, step) == expected);  // the partial last line is held back
  }
}

TEST_CASE("a partial line is completed by a later chunk", "[lines]") {
  LineSplitter splitter(1024);
  splitter.reset(100);  // resuming from a checkpoint
  Line line;
  splitter.feed("hel");
  REQUIRE_FALSE(splitter.peek(line));
  REQUIRE(splitter.held_bytes() == 3);
  splitter.feed("lo\nnext");
  REQUIRE(splitter.peek(line));
  REQUIRE(line.text == "hello");
  REQUIRE(line.offset == 100);
  REQUIRE(line.next_offset == 106);
  splitter.consume();
  REQUIRE_FALSE(splitter.peek(line));
  REQUIRE(splitter.offset() == 110);
}

TEST_CASE("a refused line is offered again until consumed", "[lines]") {
  LineSplitter splitter(1024);
  splitter.reset(0);
  splitter.feed("a\nb\n");
  Line line;
  REQUIRE(splitter.peek(line));
  REQUIRE(splitter.peek(line));  // not consumed: the same line
  REQUIRE(line.text == "a");
  splitter.consume();
  REQUIRE(splitter.peek(line));
  REQUIRE(line.text == "b");
}

TEST_CASE("a line longer than max_line_bytes comes out in bounded pieces", "[lines]") {
  std::string data = std::string(2500, 'x') + "\nshort\n";
  for (size_t step : {size_t{1}, size_t{100}, size_t{4096}}) {
    INFO("chunk size " << step);
    std::vector<Cut> cuts = split(data, step, 1024);
    REQUIRE(cuts.size() == 4);
    REQUIRE(cuts[0] == Cut{std::string(1024, 'x'), 0, 1024, true});
    REQUIRE(cuts[1] == Cut{std::string(1024, 'x'), 1024, 2048, true});
    REQUIRE(cuts[2] == Cut{std::string(452, 'x'), 2048, 2501, false});
    REQUIRE(cuts[3] == Cut{"short", 2501, 2507, false});
  }
}

TEST_CASE("strip_cr leaves the carriage return out of the text but not out of the offsets",
          "[lines]") {
  std::vector<Cut> cuts = split("dos\r\nunix\n\r\n", 2, 1024, /*strip_cr=*/true);
  REQUIRE(cuts ==
          std::vector<Cut>{{"dos", 0, 5, false}, {"unix", 5, 10, false}, {"", 10, 12, false}});
}

}  // namespace assas::collectors

namespace assas::collectors {
namespace {

struct Part {
  std::string text;
  uint64_t offset;
  uint64_t next_offset;
  uint32_t part;
  bool last;
  uint64_t truncated_from;
  bool operator==(const Part&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Part& p) {
  return os << "{" << p.text.size() << " bytes @" << p.offset << ".." << p.next_offset << " part "
            << p.part << (p.last ? " last" : "") << " truncated_from " << p.truncated_from << "}";
}

std::vector<Part> parts(const std::string& data, size_t step, size_t max_line, bool truncate) {
  LineSplitter splitter(max_line, false, truncate);
  splitter.reset(0);
  std::vector<Part> out;
  for (size_t at = 0; at < data.size(); at += step) {
    splitter.feed(std::string_view(data).substr(at, step));
    Line line;
    while (splitter.peek(line)) {
      out.push_back(Part{std::string(line.text), line.offset, line.next_offset, line.part,
                         line.last_part, line.truncated_from});
      splitter.consume();
    }
    REQUIRE(splitter.held_bytes() <= max_line);  // bounded, whatever the line
  }
  return out;
}

}  // namespace

TEST_CASE("the pieces of a split line are numbered and the last one is marked", "[lines]") {
  std::string data = std::string(2500, 'x') + "\nshort\n";
  for (size_t step : {size_t{1}, size_t{100}, size_t{4096}}) {
    INFO("chunk size " << step);
    REQUIRE(parts(data, step, 1024, false) ==
            std::vector<Part>{{std::string(1024, 'x'), 0, 1024, 1, false, 0},
                              {std::string(1024, 'x'), 1024, 2048, 2, false, 0},
                              {std::string(452, 'x'), 2048, 2501, 3, true, 0},
                              {"short", 2501, 2507, 0, false, 0}});
  }
}

TEST_CASE("truncate mode sends the head of a long line once, with its full length", "[lines]") {
  std::string data = std::string(5000, 'y') + "\nnext\n" + std::string(1024, 'z') + "\n";
  for (size_t step : {size_t{1}, size_t{333}, size_t{8192}}) {
    INFO("chunk size " << step);
    REQUIRE(parts(data, step, 1024, true) ==
            std::vector<Part>{{std::string(1024, 'y'), 0, 5001, 0, false, 5000},
                              {"next", 5001, 5006, 0, false, 0},
                              {std::string(1024, 'z'), 5006, 6031, 0, false, 0}});
  }
}

TEST_CASE("a held partial line can be taken after a timeout, and is never sent twice", "[lines]") {
  LineSplitter splitter(1024);
  splitter.reset(0);
  Line line;
  splitter.feed("done\nhalf");
  REQUIRE(splitter.peek(line));
  splitter.consume();
  REQUIRE_FALSE(splitter.peek(line));
  REQUIRE(splitter.take_partial(line));
  REQUIRE(line.text == "half");
  REQUIRE(line.partial);
  REQUIRE(line.offset == 5);
  REQUIRE(line.next_offset == 9);
  splitter.consume();
  REQUIRE_FALSE(splitter.take_partial(line));  // nothing held any more
  // The newline that ends it is no line of its own; what follows is.
  splitter.feed("\nrest\n");
  REQUIRE(splitter.peek(line));
  REQUIRE(line.text == "rest");
  REQUIRE(line.offset == 10);
  splitter.consume();
  // The rest of a line, after its start was sent as partial, is a line of its own.
  splitter.feed("par");
  REQUIRE_FALSE(splitter.peek(line));
  REQUIRE(splitter.take_partial(line));
  splitter.consume();
  splitter.feed("tial\n");
  REQUIRE(splitter.peek(line));
  REQUIRE(line.text == "tial");
  REQUIRE(line.offset == 18);
  REQUIRE(line.next_offset == 23);
}

}  // namespace assas::collectors
