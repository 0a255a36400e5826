#pragma once

// The "state" file of an agent's directory: what the store has committed (ingest/agent_store.h).
//
// Format 3, written since the hash chain (docs/integrity.md):
//   assas-ingest-state 3
//   file_index N            the current events-NNNNNNNN.jsonl and .chain
//   file_size N             committed bytes of the events file
//   file_lines N            committed lines of the events file
//   chain_size N            committed bytes of the chain file
//   stream <id> <upto> <link>   per stream, newest first: highest stored seq, and the link the
//                               receiver computed for that batch (64 hex digits), or "-"
//   crc <crc32c of everything before this line, 8 hex digits>
// Format 2 has neither file_lines nor chain_size, and no link on stream lines; format 1 has one
// stream ("stream_id N", "stored_upto N" before file_index). Both are read (and rewritten as 3 at
// the next commit): their heads are unknown, and the store works out the rest from the files.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "transport/protocol/chain.h"

namespace assas::ingest {

inline constexpr uint32_t kMaxFileIndex = 99999999;  // the 8 digits of the file names
// A state file is read whole; 32 streams take about 3 KiB.
inline constexpr size_t kMaxStateFileBytes = 16384;

struct StreamState {
  uint64_t id = 0;
  uint64_t upto = 0;                           // the highest seq stored
  std::optional<transport::Digest> head_link;  // the link of batch `upto`, if known
};

struct StoreState {
  static constexpr size_t kMaxStreams = 32;

  std::vector<StreamState> streams;  // newest first, at most kMaxStreams
  uint32_t file_index = 1;
  uint64_t file_size = 0;
  uint64_t file_lines = 0;  // unknown (0) in formats 1 and 2
  uint64_t chain_size = 0;  // unknown (0) in formats 1 and 2
  int format = 3;           // as read

  const StreamState* find(uint64_t stream_id) const;
  uint64_t upto(uint64_t stream_id) const;
  // Records the stream as the newest, with its head; returns the stream evicted to stay within
  // kMaxStreams.
  std::optional<uint64_t> set(uint64_t stream_id, uint64_t upto, const transport::Digest& link);
};

// The file's bytes, in format 3.
std::string encode_store_state(const StoreState& state);
// Reads any format; nullopt if the file is damaged (bad CRC, malformed line, an out-of-range
// value, too many streams).
std::optional<StoreState> decode_store_state(std::string_view text);

}  // namespace assas::ingest
