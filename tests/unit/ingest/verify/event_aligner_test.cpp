#include "ingest/verify/event_aligner.h"

#include <catch2/catch.hpp>

namespace assas::ingest {
namespace {

std::vector<uint32_t> expected_events(uint32_t count) {
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < count; ++i) {
    out.push_back(1000 + i);
  }
  return out;
}

std::vector<LineFingerprint> lines_of(const std::vector<uint32_t>& fingerprints) {
  std::vector<LineFingerprint> out;
  for (uint32_t fp : fingerprints) {
    out.push_back(LineFingerprint{fp, fp != 0});  // 0: a line that does not decode
  }
  return out;
}

struct Expect {
  AlignFinding::Kind kind;
  size_t line;
  size_t event;
  size_t count;
};

void require_findings(const Alignment& got, const std::vector<Expect>& want) {
  REQUIRE(got.findings.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("finding " << i);
    REQUIRE(got.findings[i].kind == want[i].kind);
    REQUIRE(got.findings[i].line == want[i].line);
    if (want[i].kind != AlignFinding::Kind::kInserted) {
      REQUIRE(got.findings[i].event == want[i].event);
    }
    REQUIRE(got.findings[i].count == want[i].count);
  }
}

using K = AlignFinding::Kind;

}  // namespace

TEST_CASE("lines that are the expected events align with no finding", "[verify]") {
  std::vector<uint32_t> expected = expected_events(10);
  Alignment a = align_events(lines_of(expected), expected);
  require_findings(a, {});
  for (size_t i = 0; i < 10; ++i) {
    REQUIRE(a.line_of_event[i] == static_cast<int64_t>(i));
  }
}

TEST_CASE("single edits are located where they are", "[verify]") {
  std::vector<uint32_t> expected = expected_events(10);
  SECTION("an altered line, or one that does not decode") {
    std::vector<uint32_t> lines = expected;
    lines[4] = 7;
    lines[7] = 0;
    Alignment a = align_events(lines_of(lines), expected);
    require_findings(a, {{K::kAltered, 4, 4, 1}, {K::kAltered, 7, 7, 1}});
    REQUIRE(a.line_of_event[4] == -1);
    REQUIRE(a.line_of_event[5] == 5);
  }
  SECTION("a removed line") {
    std::vector<uint32_t> lines = expected;
    lines.erase(lines.begin() + 3);
    require_findings(align_events(lines_of(lines), expected), {{K::kRemoved, 3, 3, 1}});
  }
  SECTION("an inserted line") {
    std::vector<uint32_t> lines = expected;
    lines.insert(lines.begin() + 6, 55);
    require_findings(align_events(lines_of(lines), expected), {{K::kInserted, 6, 0, 1}});
  }
  SECTION("two swapped lines") {
    std::vector<uint32_t> lines = expected;
    std::swap(lines[2], lines[3]);
    require_findings(align_events(lines_of(lines), expected), {{K::kReordered, 2, 2, 1}});
  }
  SECTION("the last lines gone") {
    std::vector<uint32_t> lines(expected.begin(), expected.begin() + 7);
    require_findings(align_events(lines_of(lines), expected), {{K::kFileEnds, 7, 7, 3}});
  }
  SECTION("lines after the last event") {
    std::vector<uint32_t> lines = expected;
    lines.push_back(77);
    lines.push_back(78);
    require_findings(align_events(lines_of(lines), expected), {{K::kInserted, 10, 0, 2}});
  }
}

TEST_CASE("runs of removed or inserted lines do not make the rest look altered", "[verify]") {
  std::vector<uint32_t> expected = expected_events(200);
  SECTION("three removed lines") {
    std::vector<uint32_t> lines = expected;
    lines.erase(lines.begin() + 10, lines.begin() + 13);
    require_findings(align_events(lines_of(lines), expected), {{K::kRemoved, 10, 10, 3}});
  }
  SECTION("a batch of 50 lines removed") {
    std::vector<uint32_t> lines = expected;
    lines.erase(lines.begin() + 100, lines.begin() + 150);
    require_findings(align_events(lines_of(lines), expected), {{K::kRemoved, 100, 100, 50}});
  }
  SECTION("40 lines that belong to nothing") {
    std::vector<uint32_t> lines = expected;
    std::vector<uint32_t> foreign = expected_events(40);
    for (uint32_t& fp : foreign) {
      fp += 5000;
    }
    lines.insert(lines.begin() + 20, foreign.begin(), foreign.end());
    require_findings(align_events(lines_of(lines), expected), {{K::kInserted, 20, 0, 40}});
  }
  SECTION("an altered line next to a removed one") {
    std::vector<uint32_t> lines = expected;
    lines[30] = 9;
    lines.erase(lines.begin() + 31);
    require_findings(align_events(lines_of(lines), expected),
                     {{K::kAltered, 30, 30, 1}, {K::kRemoved, 31, 31, 1}});
  }
  SECTION("nothing decodes") {
    std::vector<uint32_t> lines(200, 0);
    Alignment a = align_events(lines_of(lines), expected);
    REQUIRE(a.findings.size() == 200);
    REQUIRE(a.findings.back().kind == K::kAltered);
  }
}

}  // namespace assas::ingest
