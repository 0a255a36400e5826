#pragma once

// The receiver's verdict on where a batch stands in its stream's hash chain (docs/integrity.md,
// "At assas-ingest"): a pure function of what the batch says about its predecessor and of the
// last batch of the stream stored here (the stream's head). The signature is checked apart, by
// AgentStore, and adds "break-signature".

#include <cstdint>
#include <optional>
#include <string_view>

#include "transport/protocol/chain.h"

namespace assas::ingest {

// The last batch of a stream stored here: its seq and the link the receiver computed for it.
struct ChainHead {
  uint64_t seq = 0;
  transport::Digest link{};
};

// One status word: "unchained", "start", "restart", "lane", "ok", "gap", "break-link" or
// "break-missing". head is empty for a stream with no batch here yet, or whose head is unknown (a
// state file written before the chain existed).
std::string_view chain_verdict(const transport::BatchChain& chain,
                               const std::optional<ChainHead>& head);

}  // namespace assas::ingest
