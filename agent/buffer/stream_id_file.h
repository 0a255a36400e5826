#pragma once

// The buffer's stream id, kept in <dir>/stream_id as 16 hex digits and a newline (0600). A new
// directory gets a new random id (getrandom), so that the receiver sees a wiped buffer, whose seqs
// restart at 1, as a new stream rather than as duplicates. Blocking: DiskBuffer::open() only.

#include <cstdint>
#include <string>

#include "base/status.h"

namespace assas::agent {

// Reads the id, or makes and persists one if the file does not exist. A damaged file is an error
// naming the fix. had_segments only decides whether a missing file deserves a warning.
Result<uint64_t> load_or_create_stream_id(const std::string& dir, bool had_segments);

// <dir>/last_seq: the highest seq of a segment deleted while it was the newest (a full disk), as a
// decimal and a newline (0600). Seqs must keep increasing within a stream even when no segment
// is left to say where they were. 0 if there is no such file; a damaged one is an error.
Result<uint64_t> load_seq_floor(const std::string& dir);
Status store_seq_floor(const std::string& dir, uint64_t seq);

// <dir>/released_upto: "<stream id, 16 hex digits> <seq>\n" (0600), written when the buffer closes
// cleanly: every batch up to seq was acknowledged by every output and checkpointed. Without it, a
// restart would find those batches still in the newest segment and send them again, which the
// receiver that has them drops, but a receiver the outputs now point at (a reload or a restart
// with another endpoint) would store twice. Missing, damaged, or of another stream: 0, with a
// warning if damaged; the worst that follows is a batch sent twice, never one not sent.
uint64_t load_released_upto(const std::string& dir, uint64_t stream_id);
Status store_released_upto(const std::string& dir, uint64_t stream_id, uint64_t seq);

}  // namespace assas::agent
