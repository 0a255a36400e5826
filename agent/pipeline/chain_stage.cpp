#include "agent/pipeline/chain_stage.h"

#include "agent/buffer/segment_format.h"
#include "base/log.h"

namespace assas::agent {

ChainOutcome ChainStage::link(BufferRecord& record, std::string_view raw, bool aged,
                              std::chrono::milliseconds now) {
  ChainOutcome outcome;
  record.chain = transport::BatchChain{};
  record.link = transport::Digest{};
  if (!options_.enabled) {
    return outcome;
  }
  Result<transport::BatchContent> content = transport::hash_batch(raw, record.event_count);
  if (!content.is_ok() || content->events != record.event_count) {
    // The batch encoder made raw; this means a bug, not bad input. The batch still ships, marked
    // unchained, and the head stays where it was, so the chain goes on past it.
    ASSAS_LOG(kError, "cannot hash a batch for the chain; it is sent unchained",
              log::kv("seq", record.seq),
              log::kv("error", content.is_ok() ? std::string("event count differs")
                                               : content.status().to_string()));
    return outcome;
  }
  ChainHead previous = options_.head.value_or(ChainHead{});
  record.chain.flags = transport::BatchChain::kChained;
  record.chain.prev_seq = previous.seq;
  record.chain.prev_link = previous.link;
  record.link = transport::chain_link(record.seq, previous.seq, previous.link, record.event_count,
                                      content->content);
  options_.head = ChainHead{record.seq, record.link};
  outcome.linked = true;
  ++since_signature_;
  if (should_sign(aged, now)) {
    sign(record, now, outcome);
  }
  return outcome;
}

bool ChainStage::should_sign(bool aged, std::chrono::milliseconds now) const {
  if (!options_.signer) {
    return false;
  }
  return !signed_any_ || aged ||
         (options_.sign_every > 0 && since_signature_ >= options_.sign_every) ||
         now - signed_at_ >= options_.sign_interval;
}

void ChainStage::sign(BufferRecord& record, std::chrono::milliseconds now, ChainOutcome& outcome) {
  Result<std::string> signature = options_.signer->sign(record.seq, record.link);
  Status failure = signature.status();
  if (failure.is_ok() && signature->size() > segment_format::kMaxSignatureBytes) {
    failure = invalid_argument(
        "the signature has " + std::to_string(signature->size()) + " bytes, more than the " +
        std::to_string(segment_format::kMaxSignatureBytes) + " a batch carries; use a smaller key");
  }
  if (!failure.is_ok()) {
    outcome.sign_failed = true;
    // Once per spell of failures, and then every 1000th: every batch tries again.
    if (failures_in_a_row_++ % 1000 == 0) {
      ASSAS_LOG(kError, "cannot sign a chain checkpoint; the batch is kept unsigned",
                log::kv("seq", record.seq), log::kv("error", failure.to_string()),
                log::kv("failures_in_a_row", failures_in_a_row_));
    }
    return;
  }
  failures_in_a_row_ = 0;
  record.chain.signature = std::move(signature).value();
  outcome.signed_batch = true;
  signed_any_ = true;
  since_signature_ = 0;
  signed_at_ = now;
}

}  // namespace assas::agent
