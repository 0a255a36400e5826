#pragma once

#include <string>
#include <vector>

#include "agent/event.h"

namespace assas::agent {

// What the pipeline offers a collector. Loop thread only.
class EventSink {
 public:
  virtual ~EventSink() = default;
  // false: not taken, because the pipeline is full and has paused the collector. Keep the event
  // and your read position, and offer it again after resume(). Nothing is ever dropped here.
  [[nodiscard]] virtual bool push(const StreamPtr& stream, const Event& event) = 0;
  // These sources are gone for good (e.g. files deleted longer ago than a grace period): their
  // checkpoints are dropped, so that the checkpoint file stays small.
  virtual void forget(const std::vector<std::string>& source_ids) { (void)source_ids; }
};

}  // namespace assas::agent
