#include "ingest/chain_verdict.h"

namespace assas::ingest {

std::string_view chain_verdict(const transport::BatchChain& chain,
                               const std::optional<ChainHead>& head) {
  using transport::BatchChain;
  if ((chain.flags & BatchChain::kChained) == 0) {
    return "unchained";
  }
  if (!head) {
    return "start";
  }
  if (chain.prev_seq == 0) {
    return "restart";
  }
  if ((chain.flags & BatchChain::kLane) != 0 && chain.prev_seq != head->seq) {
    return "lane";  // its predecessor went to another receiver
  }
  if (chain.prev_seq == head->seq) {
    return chain.prev_link == head->link ? "ok" : "break-link";
  }
  if (chain.prev_seq > head->seq) {
    return (chain.flags & BatchChain::kAgentLost) != 0 ? "gap" : "break-missing";
  }
  // It claims a predecessor older than the one stored: a replayed or reordered chain.
  return "break-link";
}

}  // namespace assas::ingest
