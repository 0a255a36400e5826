#pragma once

// Reads one record back from a segment for the shipper (DiskBuffer::read_after on a cache miss).
// Blocking: Worker thread only. The record was verified when it was written or recovered; it is
// verified again here, because the file may have changed on disk since.

#include <cstdint>
#include <string>

#include "agent/buffer/buffer_record.h"
#include "base/status.h"

namespace assas::agent {

// The record of seq that the index places at offset (length bytes, header included) in path, a
// segment of version (segment_format.h).
Result<BufferRecord> read_segment_record(const std::string& path, uint64_t offset, uint32_t length,
                                         uint64_t seq, uint32_t version);

}  // namespace assas::agent
