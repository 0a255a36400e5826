#include "ingest/chain_record.h"

#include <catch2/catch.hpp>

namespace assas::ingest {

TEST_CASE("a chain record round-trips through its line", "[chain_record]") {
  ChainRecord r;
  r.stream = 0x9f3c00000000beefULL;
  r.seq = 52;
  r.prev_seq = 51;
  r.prev_link[0] = 1;
  r.link[31] = 0xff;
  r.line = 1234;
  r.events = 2;
  r.status = "break-link+break-signature";
  r.signature = std::string("\x30\x45\0sig", 6);
  r.cert = std::string(64, 'a');
  r.fingerprints = {0xdeadbeef, 7};
  std::string line;
  append_chain_record(line, r);
  REQUIRE(line.back() == '\n');
  REQUIRE(line.starts_with("batch 9f3c00000000beef 52 51 01"));
  REQUIRE(line.ends_with(" deadbeef00000007\n"));
  line.pop_back();
  Result<ChainRecord> back = parse_chain_record(line);
  REQUIRE(back.is_ok());
  REQUIRE(back->stream == r.stream);
  REQUIRE(back->seq == 52);
  REQUIRE(back->prev_seq == 51);
  REQUIRE(back->prev_link == r.prev_link);
  REQUIRE(back->link == r.link);
  REQUIRE(back->line == 1234);
  REQUIRE(back->events == 2);
  REQUIRE(back->status == r.status);
  REQUIRE(back->signature == r.signature);
  REQUIRE(back->cert == r.cert);
  REQUIRE(back->fingerprints == r.fingerprints);
  REQUIRE(is_break_status(back->status));
}

TEST_CASE("an unsigned empty record uses dashes and damaged lines are refused", "[chain_record]") {
  ChainRecord r;
  r.stream = 1;
  r.seq = 1;
  r.line = 1;
  r.status = "start";
  std::string line;
  append_chain_record(line, r);
  line.pop_back();
  REQUIRE(line.ends_with(" 1 0 start - - -"));
  REQUIRE(parse_chain_record(line).is_ok());
  REQUIRE_FALSE(is_break_status("start"));

  auto refused = [&](std::string damaged) {
    INFO(damaged);
    REQUIRE(parse_chain_record(damaged).status().code() == StatusCode::kCorruption);
  };
  refused(line + " extra");
  refused(line.substr(0, line.size() - 2));
  refused("batch" + line.substr(5, 8) + "X" + line.substr(14));  // stream not hex
  std::string bad_status = line;
  bad_status.replace(bad_status.find("start"), 5, "fine!");
  refused(bad_status);
  std::string bad_count = line;
  bad_count.replace(bad_count.find(" 1 0 start"), 10, " 1 1 start");  // 1 event, no fingerprint
  refused(bad_count);
  refused("");
}

}  // namespace assas::ingest
