// The state file: format 3 round trips; formats 1 and 2 are still read; damage is refused.

#include "ingest/store_state.h"

#include <cstdint>
#include <cstdio>
#include <string>

#include <catch2/catch.hpp>

#include "base/crc32c.h"

namespace assas::ingest {
namespace {

std::string with_crc(const std::string& body) {
  char crc[32];
  std::snprintf(crc, sizeof crc, "crc %08x\n", crc32c::value(body));
  return body + crc;
}

}  // namespace

TEST_CASE("a format 3 state round trips with heads known and unknown", "[store][state]") {
  StoreState state;
  state.file_index = 12;
  state.file_size = 123456;
  state.file_lines = 789;
  state.chain_size = 4321;
  transport::Digest link{};
  link[0] = 0xab;
  link[31] = 0x01;
  state.streams = {{7, 5, link}, {18446744073709551615ULL, 1, std::nullopt}};
  std::string text = encode_store_state(state);
  REQUIRE_THAT(text, Catch::StartsWith("assas-ingest-state 3\nfile_index 12\nfile_size 123456\n"
                                       "file_lines 789\nchain_size 4321\nstream 7 5 ab"));
  REQUIRE_THAT(text, Catch::Contains("\nstream 18446744073709551615 1 -\ncrc "));
  std::optional<StoreState> back = decode_store_state(text);
  REQUIRE(back.has_value());
  REQUIRE(back->format == 3);
  REQUIRE(back->file_index == 12);
  REQUIRE(back->file_size == 123456);
  REQUIRE(back->file_lines == 789);
  REQUIRE(back->chain_size == 4321);
  REQUIRE(back->streams.size() == 2);
  REQUIRE(back->streams[0].head_link == link);
  REQUIRE_FALSE(back->streams[1].head_link.has_value());
  REQUIRE(back->upto(18446744073709551615ULL) == 1);
}

TEST_CASE("states of formats 1 and 2 are read without heads", "[store][state]") {
  std::optional<StoreState> v2 = decode_store_state(
      with_crc("assas-ingest-state 2\nfile_index 3\nfile_size 99\nstream 7 5\nstream 9 2\n"));
  REQUIRE(v2.has_value());
  REQUIRE(v2->format == 2);
  REQUIRE(v2->file_index == 3);
  REQUIRE(v2->upto(9) == 2);
  REQUIRE_FALSE(v2->streams[0].head_link.has_value());
  std::optional<StoreState> v1 = decode_store_state(
      with_crc("assas-ingest-state 1\nstream_id 7\nstored_upto 5\nfile_index 1\nfile_size 0\n"));
  REQUIRE(v1.has_value());
  REQUIRE(v1->format == 1);
  REQUIRE(v1->upto(7) == 5);
}

TEST_CASE("a damaged or malformed state is refused", "[store][state]") {
  StoreState state;
  state.streams = {{7, 5, std::nullopt}};
  std::string good = encode_store_state(state);
  REQUIRE(decode_store_state(good).has_value());
  std::string flipped = good;
  flipped[flipped.find("stream 7 5") + 9] = '6';
  REQUIRE_FALSE(decode_store_state(flipped).has_value());  // the CRC no longer matches
  const std::string bad_bodies[] = {
      "assas-ingest-state 3\nfile_index 1\nfile_size 0\nfile_lines 0\nchain_size 14\n"
      "stream 7 5 xyz\n",
      "assas-ingest-state 3\nfile_index 0\nfile_size 0\nfile_lines 0\nchain_size 14\n",
      "assas-ingest-state 3\nfile_index 1\nfile_size 0\n",
      "assas-ingest-state 2\nfile_index 1\nfile_size 0\nstream 7 5 -\n",
      "assas-ingest-state 3\nfile_index 1\nfile_size 00\nfile_lines 0\nchain_size 14\n",
      "assas-ingest-state 4\nfile_index 1\nfile_size 0\n",
  };
  for (const std::string& body : bad_bodies) {
    INFO(body);
    REQUIRE_FALSE(decode_store_state(with_crc(body)).has_value());
  }
  REQUIRE_FALSE(decode_store_state("").has_value());
  REQUIRE_FALSE(decode_store_state("crc 00000000\n").has_value());
}

TEST_CASE("a state of the most streams fits well within the size the store reads",
          "[store][state]") {
  StoreState state;
  state.file_index = kMaxFileIndex;
  state.file_size = state.file_lines = state.chain_size = UINT64_MAX;
  transport::Digest link{};
  link.fill(0xff);
  for (size_t i = 0; i < StoreState::kMaxStreams; ++i) {
    state.set(UINT64_MAX - i, UINT64_MAX, link);
  }
  std::string text = encode_store_state(state);
  REQUIRE(text.size() < 4096);
  REQUIRE(decode_store_state(text).has_value());
}

}  // namespace assas::ingest
