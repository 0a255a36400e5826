// The chain flags the shipper puts on each batch it sends (issue 10, docs/integrity.md).

#include <catch2/catch.hpp>

#include "agent/shipper.h"

namespace assas::agent {
namespace {

using transport::BatchChain;

BatchChain chained(uint64_t prev_seq) {
  BatchChain chain;
  chain.flags = BatchChain::kChained;
  chain.prev_seq = prev_seq;
  return chain;
}

}  // namespace

TEST_CASE("a batch that continues what the receiver has keeps its own flags", "[shipper][chain]") {
  REQUIRE(outgoing_chain_flags(chained(9), 9, 0, 1) == BatchChain::kChained);
  // A new chain (a restart) and a receiver ahead of the predecessor lose nothing either.
  REQUIRE(outgoing_chain_flags(chained(0), 9, 0, 1) == BatchChain::kChained);
  REQUIRE(outgoing_chain_flags(chained(5), 9, 0, 1) == BatchChain::kChained);
}

TEST_CASE("a batch that continues one the receiver never got says the agent lost the gap",
          "[shipper][chain]") {
  REQUIRE(outgoing_chain_flags(chained(10), 9, 0, 1) ==
          (BatchChain::kChained | BatchChain::kAgentLost));
  // At a first connection the receiver has nothing: a chain that goes on from released batches.
  REQUIRE(outgoing_chain_flags(chained(3), 0, 0, 1) ==
          (BatchChain::kChained | BatchChain::kAgentLost));
}

TEST_CASE("a batch whose predecessor an earlier session had acknowledged is marked as elsewhere",
          "[shipper][chain]") {
  // Failover: batches up to 199 went to the other receiver and were acknowledged there; back at
  // this one (which has 100), batch 200 continues one that is stored, elsewhere.
  REQUIRE(outgoing_chain_flags(chained(199), 100, 199, 1) ==
          (BatchChain::kChained | BatchChain::kLane));
  // Above what any receiver acknowledged, it is a loss.
  REQUIRE(outgoing_chain_flags(chained(205), 100, 199, 1) ==
          (BatchChain::kChained | BatchChain::kAgentLost));
}

TEST_CASE("lane batches are marked as lanes and never as lost", "[shipper][chain]") {
  REQUIRE(outgoing_chain_flags(chained(10), 2, 0, 3) == (BatchChain::kChained | BatchChain::kLane));
  REQUIRE(outgoing_chain_flags(BatchChain{}, 2, 0, 3) == BatchChain::kLane);
}

TEST_CASE("an unchained batch is never marked lost", "[shipper][chain]") {
  BatchChain plain;
  plain.prev_seq = 10;  // meaningless without kChained
  REQUIRE(outgoing_chain_flags(plain, 2, 0, 1) == 0);
}

}  // namespace assas::agent
