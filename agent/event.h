#pragma once

// The event model. An event is one log record read by a collector. To keep the hot path free of
// allocations, what the events of one source share lives in a Stream (collector name, source path,
// checkpoint key, configured fields), and an Event is a view that is valid only during
// EventSink::push, which copies what it keeps.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "transport/protocol/batch_codec.h"

namespace assas::agent {

using transport::Field;
using transport::FieldView;

// Where a source has been read up to: a byte offset (files), a token (a journal cursor), or both.
// Opaque to everything but the collector that made it.
struct SourcePosition {
  uint64_t offset = 0;
  std::string token;
  bool operator==(const SourcePosition&) const = default;
};

// source_id → position; the checkpoint state of every source of every collector.
using PositionMap = std::unordered_map<std::string, SourcePosition>;

// What the events of one source share. Immutable once shared.
struct Stream {
  std::string collector;  // the collector's configured name
  std::string source;     // e.g. the file path
  // The checkpoint key; unique across collectors, e.g. "file:nginx:2049:1234567". Empty for a
  // source that has no position to resume from (a network listener): nothing is checkpointed.
  std::string source_id;
  std::vector<Field> fields;  // configured user fields
};
using StreamPtr = std::shared_ptr<const Stream>;

struct Event {
  int64_t time_ns = 0;                // read time, ns since the Unix epoch
  uint64_t offset = 0;                // where the event starts in its source
  std::string_view message;           // the raw bytes, without the line terminator
  std::span<const FieldView> fields;  // per-event fields (e.g. parsed syslog), may be empty
  SourcePosition next;  // the position right after this event: the checkpoint once durable
  // Set when the event also completes another source: a multiline event begun in a file that was
  // rotated away and continued in its successor. That source's position after its part.
  const std::string* also_source_id = nullptr;
  SourcePosition also_next;
};

}  // namespace assas::agent
