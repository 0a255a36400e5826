#pragma once

// Links each batch into the hash chain and signs checkpoints (docs/integrity.md): the pure core of
// the chain, no loop and no clock of its own (the caller passes the time), so that it is tested
// without either. The Pipeline runs it on the Worker thread inside the job that compresses the
// batch; the Worker is FIFO, so batches are linked in seq order and the head needs no lock.
//
// Signing policy: a batch is signed when it is the first this stage signs, when sign_every batches
// (counting it) came since the last signature, when sign_interval passed since the last signature,
// or when it was cut before it was full (light traffic: pipeline.max_delay, or a stop), so that a
// quiet agent never leaves its newest batches unsigned. A signature that fails (or is too long to
// store) is logged and the batch stays unsigned; the next batch tries again.
//
// Contract: one thread at a time (the Worker); the signer must outlive the stage.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "agent/buffer/buffer_record.h"
#include "transport/tls/chain_signer.h"

namespace assas::agent {

struct ChainOptions {
  bool enabled = true;            // false: records stay unchained (flags 0), nothing is hashed
  std::optional<ChainHead> head;  // where the chain continues; empty: the first batch starts one
  std::shared_ptr<const transport::ChainSigner> signer;  // null: the chain is not signed
  uint32_t sign_every = 16;                              // 0: never by count
  std::chrono::milliseconds sign_interval{5000};
};

// What linking one batch did, for the loop's counters.
struct ChainOutcome {
  bool linked = false;
  bool signed_batch = false;
  bool sign_failed = false;
};

class ChainStage {
 public:
  explicit ChainStage(ChainOptions options) : options_(std::move(options)) {}
  ChainStage(const ChainStage&) = delete;
  ChainStage& operator=(const ChainStage&) = delete;

  // Sets record.chain and record.link for the batch whose uncompressed encoding is raw, and moves
  // the head to it. aged: the batch was cut before it was full. now: a monotonic time.
  ChainOutcome link(BufferRecord& record, std::string_view raw, bool aged,
                    std::chrono::milliseconds now);

  const std::optional<ChainHead>& head() const { return options_.head; }

 private:
  bool should_sign(bool aged, std::chrono::milliseconds now) const;
  void sign(BufferRecord& record, std::chrono::milliseconds now, ChainOutcome& outcome);

  ChainOptions options_;
  bool signed_any_ = false;
  uint32_t since_signature_ = 0;  // batches linked since the last signature, this one included
  std::chrono::milliseconds signed_at_{0};
  uint64_t failures_in_a_row_ = 0;
};

}  // namespace assas::agent
