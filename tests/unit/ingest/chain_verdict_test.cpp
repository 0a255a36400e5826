// The verdict table of docs/integrity.md, one row at a time.

#include "ingest/chain_verdict.h"

#include <catch2/catch.hpp>

namespace assas::ingest {
namespace {

using transport::BatchChain;
using transport::Digest;

Digest digest(uint8_t first) {
  Digest out{};
  out[0] = first;
  return out;
}

BatchChain chain(uint8_t flags, uint64_t prev_seq, const Digest& prev_link) {
  BatchChain out;
  out.flags = flags;
  out.prev_seq = prev_seq;
  out.prev_link = prev_link;
  return out;
}

constexpr uint8_t kChained = BatchChain::kChained;
const ChainHead kHead{10, digest(7)};

}  // namespace

TEST_CASE("an unchained batch is unchained whatever the head", "[chain][verdict]") {
  REQUIRE(chain_verdict(chain(0, 10, digest(7)), kHead) == "unchained");
  REQUIRE(chain_verdict(chain(BatchChain::kLane, 3, Digest{}), std::nullopt) == "unchained");
}

TEST_CASE("the first batch of a stream here is a start", "[chain][verdict]") {
  REQUIRE(chain_verdict(chain(kChained, 0, Digest{}), std::nullopt) == "start");
  REQUIRE(chain_verdict(chain(kChained, 41, digest(1)), std::nullopt) == "start");
}

TEST_CASE("prev_seq 0 on a stream with a head is a restart", "[chain][verdict]") {
  REQUIRE(chain_verdict(chain(kChained, 0, Digest{}), kHead) == "restart");
}

TEST_CASE("the stored predecessor with its link is ok and with another link a break-link",
          "[chain][verdict]") {
  REQUIRE(chain_verdict(chain(kChained, 10, digest(7)), kHead) == "ok");
  REQUIRE(chain_verdict(chain(kChained, 10, digest(8)), kHead) == "break-link");
  REQUIRE(chain_verdict(chain(kChained | BatchChain::kLane, 10, digest(8)), kHead) == "break-link");
}

TEST_CASE("a later predecessor is a gap when the agent declared it lost and a break otherwise",
          "[chain][verdict]") {
  REQUIRE(chain_verdict(chain(kChained | BatchChain::kAgentLost, 12, digest(1)), kHead) == "gap");
  REQUIRE(chain_verdict(chain(kChained, 12, digest(1)), kHead) == "break-missing");
}

TEST_CASE("an earlier predecessor is a break-link unless the batch is on a lane",
          "[chain][verdict]") {
  REQUIRE(chain_verdict(chain(kChained, 9, digest(7)), kHead) == "break-link");
  REQUIRE(chain_verdict(chain(kChained | BatchChain::kLane, 9, digest(7)), kHead) == "lane");
  REQUIRE(chain_verdict(chain(kChained | BatchChain::kLane, 12, digest(7)), kHead) == "lane");
}

}  // namespace assas::ingest
