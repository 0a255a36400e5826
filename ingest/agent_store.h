#pragma once

// The stored events of one agent identity: <data_dir>/<identity>/events-NNNNNNNN.jsonl (0600,
// rotated by size) and a "state" file that commits what is in them: for each of the agent's streams
// the highest batch seq stored, and the current file and its committed size.
//
// Crash safety: a batch is appended, fdatasync'ed, and only then committed in the state file
// (atomic replace); only then is it acknowledged. At open, bytes past the committed size (written,
// never acknowledged) are cut off, so the agent's resend stores them exactly once.
// De-duplication: a batch whose seq is not above the committed seq of the same stream is dropped.
// An agent has one stream per buffer, and one per lane when it load-balances, which can fail over
// to this receiver beside the lane that prefers it: the newest kMaxStreams streams are kept (an
// older one comes back only if an agent restores a buffer it had wiped long ago).
//
// Blocking. One thread at a time (assas-ingest runs an agent's jobs one after another on the
// libuv pool).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
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
  static constexpr size_t kMaxStreams = 32;

  static Result<std::unique_ptr<AgentStore>> open(const std::string& data_dir,
                                                  const std::string& identity, StoreLimits limits);
  ~AgentStore();
  AgentStore(const AgentStore&) = delete;
  AgentStore& operator=(const AgentStore&) = delete;

  // The highest seq of stream_id already stored (0 for a stream not seen before).
  uint64_t stored_upto(uint64_t stream_id) const;

  // Stores the batches of stream_id in order, skipping those already stored, with one write, one
  // fdatasync and one state commit (group commit). A batch that does not decompress or decode is
  // refused with kCorruption and writes nothing; the batches before it are stored and committed,
  // those after it are not. Any other error leaves the files as the last commit describes them
  // (after a reopen, which cuts off anything uncommitted): drop the store and open it again.
  Result<WriteOutcome> write(uint64_t stream_id, std::vector<ReceivedBatch>& batches);

 private:
  struct State {
    std::vector<std::pair<uint64_t, uint64_t>> streams;  // (stream id, stored upto), newest first
    uint32_t file_index = 1;
    uint64_t file_size = 0;
    uint64_t upto(uint64_t stream_id) const;
    // Records the stream as the newest; returns the stream evicted to stay within kMaxStreams.
    std::optional<uint64_t> set(uint64_t stream_id, uint64_t stored_upto);
  };
  AgentStore(std::string dir, std::string identity, StoreLimits limits);
  Status recover();
  Result<bool> has_events_files() const;
  Status open_file(uint32_t index, uint64_t committed_size);
  Status format_batch(const ReceivedBatch& batch, uint64_t& events_written);
  Status append_and_commit(uint64_t stream_id, uint64_t stored_upto);
  Status commit(const State& state);
  std::string file_path(uint32_t index) const;

  std::string dir_;
  std::string identity_;
  StoreLimits limits_;
  State state_;
  int fd_ = -1;
  transport::Decompressor decompressor_;
  std::string raw_;   // reused decompression buffer
  std::string json_;  // reused output buffer
};

}  // namespace assas::ingest
