#pragma once

#include "agent/event.h"

namespace assas::agent {

// What the pipeline offers a collector. Loop thread only.
class EventSink {
 public:
  virtual ~EventSink() = default;
  // false: not taken, because the pipeline is full and has paused the collector. Keep the event
  // and your read position, and offer it again after resume(). Nothing is ever dropped here.
  [[nodiscard]] virtual bool push(const StreamPtr& stream, const Event& event) = 0;
};

}  // namespace assas::agent
