#pragma once

// The checks of `assas-ingest verify` that follow a stream from batch to batch, across events
// files: each chain record must continue its stream's previous one (seqs increasing, prev_link
// the previous link) unless the receiver recorded why not; recorded gaps, restarts and breaks
// are listed; checkpoint signatures must verify with the stored certificate over the link
// recomputed from the events; and what is after a stream's last signature is said, as info.
//
// One thread; certs and note must outlive this object.

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "ingest/store_state.h"
#include "ingest/verify/agent_report.h"
#include "ingest/verify/cert_store.h"
#include "ingest/verify/chain_file.h"
#include "transport/protocol/chain.h"

namespace assas::ingest {

class StreamTracker {
 public:
  StreamTracker(CertStore& certs, std::function<void(Finding)> note)
      : certs_(certs), note_(std::move(note)) {}

  // One record, in the order of the files. computed_link: the link recomputed from its events, or
  // null when they are not all there in order (then the stored link is what a signature covers).
  void check(const LocatedRecord& located, const std::string& chain_path,
             const transport::Digest* computed_link);

  // Compares where each stream ends with what the receiver's state file committed (state_path),
  // so that batches cut off the end of a stream, lines and records together, do not go unseen.
  // Call once, after the last record.
  void check_state(const StoreState& state, const std::string& state_path);

  // Reports, per stream, the batches after its last signature (info). Call once, at the end.
  void finish();

  uint64_t streams() const { return streams_.size(); }
  uint64_t signatures_verified() const { return signatures_verified_; }

 private:
  struct Stream {
    uint64_t batches = 0;
    uint64_t last_seq = 0;
    transport::Digest last_link{};
    uint64_t last_signed_seq = 0;  // 0: none verified yet
    uint64_t unsigned_after = 0;   // chained batches since the last verified signature
    std::string unsigned_path;     // where the first of them is
    uint64_t unsigned_line = 0;
    uint64_t unchained = 0;
    std::string unchained_path;
    uint64_t unchained_line = 0;
  };

  void check_continuity(const Stream& stream, const LocatedRecord& located,
                        const std::string& chain_path);
  void check_status(const Stream& stream, const LocatedRecord& located,
                    const std::string& chain_path);
  // Whether the record carries a signature that verifies.
  bool check_signature(const LocatedRecord& located, const std::string& chain_path,
                       const transport::Digest& link);

  CertStore& certs_;
  std::function<void(Finding)> note_;
  std::map<uint64_t, Stream> streams_;
  std::map<std::string, bool> certs_reported_;  // untrusted certificates already reported
  uint64_t signatures_verified_ = 0;
};

}  // namespace assas::ingest
