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
  slot->updated_at = encoder_.event_count();
  if (event.also_source_id != nullptr) {
    others_.push_back(
        OtherPosition{*event.also_source_id, event.also_next, encoder_.event_count()});
  }
}

void Batcher::keep_newest(BatchPositions& positions, const std::string& source_id,
                          SourcePosition position, uint32_t updated_at,
                          std::vector<uint32_t>& updated) const {
  for (size_t i = 0; i < positions.size(); ++i) {
    if (positions[i].first == source_id) {
      if (updated_at >= updated[i]) {
        positions[i].second = std::move(position);
        updated[i] = updated_at;
      }
      return;
    }
  }
  positions.emplace_back(source_id, std::move(position));
  updated.push_back(updated_at);
}

RawBatch Batcher::take(const std::string& host) {
  RawBatch batch;
  batch.event_count = encoder_.event_count();
  batch.raw = encoder_.finish(host);
  // Two streams may share a source_id (a file reopened under the same identity), and an event may
  // complete another source: per source, the position updated last wins.
  batch.positions.reserve(slots_.size() + others_.size());
  std::vector<uint32_t> updated;
  updated.reserve(slots_.size() + others_.size());
  for (StreamSlot& slot : slots_) {
    if (slot.stream->source_id.empty()) {
      continue;  // a source without a position to resume from (a network listener)
    }
    keep_newest(batch.positions, slot.stream->source_id, std::move(slot.last), slot.updated_at,
                updated);
  }
  for (OtherPosition& other : others_) {
    keep_newest(batch.positions, other.source_id, std::move(other.position), other.updated_at,
                updated);
  }
  slots_.clear();
  others_.clear();
  return batch;
}

}  // namespace assas::agent
