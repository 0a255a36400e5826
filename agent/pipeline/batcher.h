#pragma once

// The pure core of batching: accumulates events into one encoded batch and says when to flush,
// by count, bytes and age. No loop, no clock of its own (the caller passes the time), so it is
// tested without either. The Pipeline is its libuv shell.
//
// Hot path: add() copies the event's bytes straight into the batch encoding; a stream is looked
// up by pointer in a small vector (a batch rarely holds more than a handful of sources).

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "agent/buffer/buffer_record.h"
#include "agent/event.h"
#include "transport/protocol/batch_codec.h"

namespace assas::agent {

struct BatchLimits {
  uint32_t max_events = 4096;
  uint64_t max_bytes = 1ULL << 20;
  std::chrono::nanoseconds max_delay = std::chrono::milliseconds(200);
};

// One batch ready to compress and buffer.
struct RawBatch {
  std::string raw;  // transport/protocol/batch_codec.h encoding
  uint32_t event_count = 0;
  BatchPositions positions;  // the last position of each source in the batch
};

class Batcher {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit Batcher(BatchLimits limits) : limits_(limits) {}

  // Adds an event; now is when it arrived (the age of a batch counts from its first event).
  void add(const StreamPtr& stream, const Event& event, TimePoint now);

  bool empty() const { return encoder_.empty(); }
  // Full by count or bytes: flush now.
  bool full() const {
    return encoder_.event_count() >= limits_.max_events ||
           encoder_.size_bytes() >= limits_.max_bytes;
  }
  // Full, or its first event is max_delay old.
  bool due(TimePoint now) const { return !empty() && (full() || now >= deadline()); }
  // When the current batch must be flushed by age; meaningless when empty().
  TimePoint deadline() const { return first_event_at_ + limits_.max_delay; }
  uint32_t event_count() const { return encoder_.event_count(); }
  size_t size_bytes() const { return encoder_.size_bytes(); }

  // Takes the batch and starts an empty one.
  RawBatch take(const std::string& host);

 private:
  struct StreamSlot {
    StreamPtr stream;  // kept alive until the batch is taken
    uint32_t index;
    SourcePosition last;
    uint32_t updated_at = 0;  // event number of the last update, so the newest position wins
  };
  // Positions an event completed in another source (Event::also_source_id).
  struct OtherPosition {
    std::string source_id;
    SourcePosition position;
    uint32_t updated_at = 0;
  };
  void keep_newest(BatchPositions& positions, const std::string& source_id, SourcePosition position,
                   uint32_t updated_at, std::vector<uint32_t>& updated) const;

  BatchLimits limits_;
  transport::BatchEncoder encoder_;
  std::vector<StreamSlot> slots_;
  std::vector<OtherPosition> others_;
  TimePoint first_event_at_{};
};

}  // namespace assas::agent
