#pragma once

// The stored events of one agent identity: <data_dir>/<identity>/events-NNNNNNNN.jsonl (0600,
// rotated by size), beside each its events-NNNNNNNN.chain (0600: one record per stored batch, its
// hash chain verdict on receipt, docs/integrity.md), certs/<fingerprint>.pem for the certificates
// that signed checkpoints, and a "state" file that commits what is in them (ingest/store_state.h):
// for each of the agent's streams the highest batch seq stored and that batch's link (the stream's
// head), and the current files with their committed sizes.
//
// Crash safety: a batch's events and chain record are appended, both fdatasync'ed, and only then
// committed in the state file (atomic replace); only then is the batch acknowledged. At open,
// bytes past the committed sizes (written, never acknowledged) are cut off, so the agent's resend
// stores them exactly once.
// De-duplication: a batch whose seq is not above the committed seq of the same stream is dropped.
// An agent has one stream per buffer, and one per lane when it load-balances, which can fail over
// to this receiver beside the lane that prefers it: the newest kMaxStreams streams are kept (an
// older one comes back only if an agent restores a buffer it had wiped long ago).
// Verification on receipt: each batch's content and link are computed from its events in the
// same pass that formats them, judged against its stream's head (ingest/chain_verdict.h), and its
// checkpoint signature checked with the key of the certificate it arrived with. Whatever the
// verdict, the events are stored: evidence is never thrown away; a break is logged and counted.
//
// Blocking. One thread at a time (assas-ingest runs an agent's jobs one after another on the
// libuv pool).

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "ingest/agent_key.h"
#include "ingest/chain_record.h"
#include "ingest/chain_verdict.h"
#include "ingest/ingest_stats.h"
#include "ingest/store_state.h"
#include "transport/protocol/chain.h"
#include "transport/protocol/compression.h"

namespace assas::ingest {

struct StoreLimits {
  uint64_t max_file_size = 256ULL << 20;
  uint32_t max_batch_bytes = 64U << 20;  // uncompressed
  uint32_t max_batch_events = 1U << 20;  // a batch declaring more is refused before decoding
};

// A batch as received, owning its payload.
struct ReceivedBatch {
  uint64_t seq = 0;
  uint32_t event_count = 0;
  uint32_t raw_size = 0;
  transport::Codec codec = transport::Codec::kZstd;
  std::string payload;
  transport::BatchChain chain;  // as the agent sent it
  // The certificate the batch arrived with, whose key must verify its signature; without one a
  // signature cannot verify (break-signature).
  std::shared_ptr<const AgentKey> signer;
};

struct WriteOutcome {
  uint64_t stored_upto = 0;
  uint64_t events_written = 0;
  uint64_t duplicates_dropped = 0;  // batches
};

// Identities become directory names: [A-Za-z0-9_.-]{1,128}, not starting with '.', without "..".
bool is_safe_identity(std::string_view identity);

class AgentStore {
 public:
  static constexpr size_t kMaxStreams = StoreState::kMaxStreams;

  static Result<std::unique_ptr<AgentStore>> open(const std::string& data_dir,
                                                  const std::string& identity, StoreLimits limits);
  ~AgentStore();
  AgentStore(const AgentStore&) = delete;
  AgentStore& operator=(const AgentStore&) = delete;

  // The highest seq of stream_id already stored (0 for a stream not seen before).
  uint64_t stored_upto(uint64_t stream_id) const;

  // Stores the batches of stream_id in order, skipping those already stored, with one write per
  // file, one fdatasync each and one state commit (group commit). A batch that does not
  // decompress or decode is refused with kCorruption and writes nothing; the batches before it
  // are stored and committed, those after it are not. Any other error leaves the files as the
  // last commit describes them (after a reopen, which cuts off anything uncommitted): drop the
  // store and open it again.
  Result<WriteOutcome> write(uint64_t stream_id, std::vector<ReceivedBatch>& batches);

  // What was committed and dropped as duplicate since the last call; starts counting afresh.
  StoreCounts take_counts();

 private:
  AgentStore(std::string dir, std::string identity, StoreLimits limits);
  Status recover();
  Result<bool> has_events_files() const;
  // Opens (creating) the events and chain files of index, cut back to their committed sizes;
  // lines and chain_size are unknown (nullopt) for a state of format 1 or 2.
  Status open_files(uint32_t index, uint64_t events_size, std::optional<uint64_t> lines,
                    std::optional<uint64_t> chain_size);
  Status open_chain_file(uint32_t index, uint64_t events_size, std::optional<uint64_t> chain_size);
  void close_files();
  Result<ChainRecord> format_batch(uint64_t stream_id, const ReceivedBatch& batch);
  void judge(ChainRecord& record, const ReceivedBatch& batch, const std::optional<ChainHead>& head);
  Status save_certificates();
  Status append_and_commit(uint64_t stream_id, uint64_t stored_upto,
                           const transport::Digest& head_link, uint64_t lines);
  void count_committed();
  Status commit(const StoreState& state);
  std::string file_path(uint32_t index, const char* extension) const;

  std::string dir_;
  std::string identity_;
  StoreLimits limits_;
  StoreState state_;
  int fd_ = -1;        // the current events file
  int chain_fd_ = -1;  // and its chain file
  transport::Decompressor decompressor_;
  transport::ContentHasher hasher_;
  std::string raw_;                   // reused decompression buffer
  std::string json_;                  // reused output buffer
  std::string chain_;                 // reused chain file buffer
  std::vector<ChainRecord> records_;  // one per batch in json_, lines counted from json_'s start
  std::vector<std::shared_ptr<const AgentKey>> new_certs_;  // to save before the commit
  std::set<std::string> saved_certs_;                       // fingerprints known to be in certs/
  StoreCounts counts_;
};

}  // namespace assas::ingest
