#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agent/event.h"
#include "transport/protocol/chain.h"
#include "transport/protocol/compression.h"

namespace assas::agent {

// source_id → the position right after the last event of that source in one batch.
using BatchPositions = std::vector<std::pair<std::string, SourcePosition>>;

// One batch as the disk buffer stores it: one framed, CRC-checked record in a segment file.
struct BufferRecord {
  uint64_t seq = 0;  // assigned by the pipeline, strictly increasing, never reused
  uint32_t event_count = 0;
  uint32_t raw_size = 0;  // size of the batch before compression
  transport::Codec codec = transport::Codec::kZstd;
  // Recorded so that start-up can take the later of the checkpoint file and the buffer (a crash
  // between "batch durable" and "checkpoint written" must not re-read those lines under new seqs).
  BatchPositions positions;
  // The batch's place in the hash chain (docs/integrity.md): flags 0 when unchained
  // (integrity.chain off, or a record of a version-1 segment), and then link is all zeros.
  transport::BatchChain chain;
  transport::Digest link{};                    // this batch's link, as the pipeline computed it
  std::shared_ptr<const std::string> payload;  // the compressed batch
};

using transport::ChainHead;

}  // namespace assas::agent
