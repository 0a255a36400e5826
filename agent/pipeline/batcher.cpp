#include "agent/pipeline/batcher.h"

namespace assas::agent {

void Batcher::add(const StreamPtr& stream, const Event& event, TimePoint now) {
  if (encoder_.empty()) {
    first_event_at_ = now;
  }
  StreamSlot* slot = nullptr;
  // Newest slots first: consecutive events nearly always come from the same source.
  for (auto it = slots_.rbegin(); it != slots_.rend(); ++it) {
    if (it->stream.get() == stream.get()) {
      slot = &*it;
      break;
    }
  }
  if (slot == nullptr) {
    uint32_t index = encoder_.add_stream(stream->collector, stream->source, stream->fields);
    slots_.push_back(StreamSlot{stream, index, {}});
    slot = &slots_.back();
  }
  encoder_.add_event(event.time_ns, slot->index, event.offset, event.message, event.fields);
  slot->last.offset = event.next.offset;
  if (slot->last.token != event.next.token) {
    slot->last.token = event.next.token;
  }
}

RawBatch Batcher::take(const std::string& host) {
  RawBatch batch;
  batch.event_count = encoder_.event_count();
  batch.raw = encoder_.finish(host);
  // Two streams may share a source_id (a file reopened under the same identity): the later slot
  // holds the later position, and the vector keeps insertion order, so the last one wins.
  batch.positions.reserve(slots_.size());
  for (StreamSlot& slot : slots_) {
    bool replaced = false;
    for (auto& [source_id, position] : batch.positions) {
      if (source_id == slot.stream->source_id) {
        position = std::move(slot.last);
        replaced = true;
      }
    }
    if (!replaced) {
      batch.positions.emplace_back(slot.stream->source_id, std::move(slot.last));
    }
  }
  slots_.clear();
  return batch;
}

}  // namespace assas::agent
