#pragma once

// The batch format: how a batch of events is laid out before compression. The agent encodes it
// (pipeline), the disk buffer stores it compressed, and assas-ingest decodes it; that is why it
// lives in transport/, which both sides link. Byte layout (docs/protocol.md, "Batch payload"):
//
//   u8      version (1)
//   bytes   host                      the agent host's name
//   varint  stream_count              then per stream:
//     bytes   collector, bytes source, varint field_count, field_count × (bytes key, bytes value)
//   varint  event_count               then per event:
//     u64     time_ns (little-endian)  read time, nanoseconds since the Unix epoch
//     varint  stream index            < stream_count
//     varint  offset                  byte offset of the event in its source
//     varint  field_count, field_count × (bytes key, bytes value)   per-event fields
//     bytes   message                 the raw bytes, unchanged
//
// "bytes" is a varint length followed by that many bytes. A stream is what events of one source
// share (collector name, source path, configured fields), so they are written once per batch.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace assas::transport {

using Field = std::pair<std::string, std::string>;
using FieldView = std::pair<std::string_view, std::string_view>;

inline constexpr uint8_t kBatchVersion = 1;

// Builds one batch. Not thread-safe; reusable after finish().
class BatchEncoder {
 public:
  // Adds a stream and returns its index for add_event().
  uint32_t add_stream(std::string_view collector, std::string_view source,
                      std::span<const Field> fields);
  void add_event(int64_t time_ns, uint32_t stream, uint64_t offset, std::string_view message,
                 std::span<const FieldView> fields = {});

  uint32_t event_count() const { return event_count_; }
  uint32_t stream_count() const { return stream_count_; }
  // Encoded size so far, a close upper bound of what finish() returns.
  size_t size_bytes() const { return streams_.size() + events_.size() + 32; }
  bool empty() const { return event_count_ == 0; }

  // The encoded batch; leaves the encoder empty and ready for the next batch.
  std::string finish(std::string_view host);

 private:
  std::string streams_;
  std::string events_;
  uint32_t stream_count_ = 0;
  uint32_t event_count_ = 0;
};

struct DecodedStream {
  std::string_view collector;
  std::string_view source;
  std::vector<FieldView> fields;
};

struct DecodedEvent {
  int64_t time_ns = 0;
  const DecodedStream* stream = nullptr;
  uint64_t offset = 0;
  std::string_view message;
  std::vector<FieldView> fields;
};

struct DecodedBatchHeader {
  std::string_view host;
  std::vector<DecodedStream> streams;
  uint32_t event_count = 0;
};

// Decodes a batch, calling on_event for each event in order; the views point into raw. Fails with
// kCorruption on anything malformed (bad version, lengths past the end, a stream index out of
// range, trailing bytes, more events than max_events) without reading outside raw. Events are
// passed on as they are decoded, so on failure the caller must discard those it already got.
Status decode_batch(
    std::string_view raw, uint32_t max_events,
    const std::function<void(const DecodedBatchHeader&, const DecodedEvent&)>& on_event);

}  // namespace assas::transport
