#pragma once

// The hash chain that lets a SOC prove that no stored event was altered, removed, inserted or
// reordered between the agent and an investigation (docs/integrity.md, the byte-for-byte
// reference). Both sides compute it with this code: the agent when it buffers a batch, assas-ingest
// when it receives one, and `assas-ingest verify` from the stored JSON lines.
//
//   canonical(event) = u64 time_ns | bytes host | bytes collector | bytes source | varint offset
//                      | varint field_count | field_count × (bytes key, bytes value) | bytes
//                      message
//   content(batch)   = SHA-256(canonical(e1) | canonical(e2) | ... )
//   link(batch)      = SHA-256("assas-chain-link-1" | u64 seq | u64 prev_seq | prev_link (32)
//                              | u32 event_count | content (32))
//   checkpoint       = a signature, by the agent's key, of
//                      "assas-chain-checkpoint-1" | u64 seq | link (32)
//
// Fields are the stream's (configured) fields first, then the event's own, as the JSON line lists
// them. A chain starts with prev_seq 0 and a prev_link of 32 zero bytes.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "transport/protocol/batch_codec.h"

namespace assas::transport {

inline constexpr size_t kDigestBytes = 32;
using Digest = std::array<uint8_t, kDigestBytes>;  // a SHA-256 value

// What one batch carries about the chain, from the agent's buffer to the receiver.
struct BatchChain {
  // Flag bits.
  static constexpr uint8_t kChained = 1;    // the agent computed the chain (integrity.chain on)
  static constexpr uint8_t kLane = 2;       // a load-balancing lane: predecessors may be elsewhere
  static constexpr uint8_t kAgentLost = 4;  // the batches between this stream's previous batch
                                            // and this one were lost by the agent (a corrupt
                                            // buffer record, or dropped by when_full)
  uint8_t flags = 0;
  uint64_t prev_seq = 0;  // the batch this one is linked to; 0 starts a chain
  Digest prev_link{};     // that batch's link; zeros when prev_seq is 0
  std::string signature;  // empty, or a checkpoint: the agent's signature of this batch's link
};

// The newest link of a chain, which the next batch continues: the agent's head (where its
// pipeline goes on), and each stream's head at the receiver (what the next batch must continue).
struct ChainHead {
  uint64_t seq = 0;
  Digest link{};
};

// The fields of one event as both sides see them.
struct CanonicalEventView {
  int64_t time_ns = 0;
  std::string_view host;
  std::string_view collector;
  std::string_view source;
  uint64_t offset = 0;
  std::span<const FieldView> fields_first;  // the stream's fields (or all of them)
  std::span<const FieldView> fields_then;   // the event's own fields
  std::string_view message;
};

// A decoded event as the chain sees it: the stream's fields first, then the event's own.
CanonicalEventView canonical_view(const DecodedBatchHeader& header, const DecodedEvent& event);

// Appends canonical(event) to out.
void append_canonical_event(std::string& out, const CanonicalEventView& event);

// SHA-256 over the canonical encodings of a batch's events, in order.
class ContentHasher {
 public:
  ContentHasher();
  ~ContentHasher();
  ContentHasher(const ContentHasher&) = delete;
  ContentHasher& operator=(const ContentHasher&) = delete;

  // Hashes one event and returns its canonical encoding (valid until the next call to this
  // object), so that a caller can also fingerprint it.
  std::string_view add(const CanonicalEventView& event);
  uint32_t events() const { return events_; }
  // The digest of every event added since the last finish(); starts over.
  Digest finish();

 private:
  static constexpr size_t kChunkBytes = 32 * 1024;
  void flush();

  struct Impl;
  Impl* impl_;
  std::string scratch_;  // canonical encodings not hashed yet
  uint32_t events_ = 0;
};

// The content digest of an encoded (uncompressed) batch, decoding it; fingerprints, if given,
// receives event_fingerprint() of each event. Fails like decode_batch().
struct BatchContent {
  Digest content{};
  uint32_t events = 0;
};
Result<BatchContent> hash_batch(std::string_view raw, uint32_t max_events,
                                std::vector<uint32_t>* fingerprints = nullptr);

Digest chain_link(uint64_t seq, uint64_t prev_seq, const Digest& prev_link, uint32_t event_count,
                  const Digest& content);

// The bytes a checkpoint signature covers.
std::string checkpoint_message(uint64_t seq, const Digest& link);

// Locates an event inside a batch at rest (not a security property: the link is): CRC32C of its
// canonical encoding.
uint32_t event_fingerprint(std::string_view canonical);

// Lowercase hex, and back (false unless exactly 2 × size hex digits).
std::string to_hex(std::span<const uint8_t> bytes);
bool digest_from_hex(std::string_view hex, Digest& out);

}  // namespace assas::transport
