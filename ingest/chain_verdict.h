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

// A stream's head here: the last batch stored, with the link the receiver computed for it.
using transport::ChainHead;

// One status word: "unchained", "start", "restart", "lane", "ok", "gap", "break-link" or
// "break-missing". head is empty for a stream with no batch here yet, or whose head is unknown (a
// state file written before the chain existed).
std::string_view chain_verdict(const transport::BatchChain& chain,
                               const std::optional<ChainHead>& head);

}  // namespace assas::ingest
