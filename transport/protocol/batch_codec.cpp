#include "transport/protocol/batch_codec.h"

#include "base/bytes.h"

namespace assas::transport {

uint32_t BatchEncoder::add_stream(std::string_view collector, std::string_view source,
                                  std::span<const Field> fields) {
  put_bytes(streams_, collector);
  put_bytes(streams_, source);
  put_varint(streams_, fields.size());
  for (const Field& f : fields) {
    put_bytes(streams_, f.first);
    put_bytes(streams_, f.second);
  }
  return stream_count_++;
}

void BatchEncoder::add_event(int64_t time_ns, uint32_t stream, uint64_t offset,
                             std::string_view message, std::span<const FieldView> fields) {
  put_u64(events_, static_cast<uint64_t>(time_ns));
  put_varint(events_, stream);
  put_varint(events_, offset);
  put_varint(events_, fields.size());
  for (const FieldView& f : fields) {
    put_bytes(events_, f.first);
    put_bytes(events_, f.second);
  }
  put_bytes(events_, message);
  ++event_count_;
}

std::string BatchEncoder::finish(std::string_view host) {
  std::string out;
  out.reserve(size_bytes() + host.size());
  put_u8(out, kBatchVersion);
  put_bytes(out, host);
  put_varint(out, stream_count_);
  out += streams_;
  put_varint(out, event_count_);
  out += events_;
  streams_.clear();
  events_.clear();
  stream_count_ = 0;
  event_count_ = 0;
  return out;
}

namespace {

bool read_fields(ByteReader& r, std::vector<FieldView>& fields) {
  uint64_t count = 0;
  // Each field takes at least two bytes, which bounds count before we reserve anything.
  if (!r.get_varint(count) || count > r.remaining() / 2) {
    return false;
  }
  fields.clear();
  fields.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    std::string_view key;
    std::string_view value;
    if (!r.get_bytes(key) || !r.get_bytes(value)) {
      return false;
    }
    fields.emplace_back(key, value);
  }
  return true;
}

}  // namespace

Status decode_batch(
    std::string_view raw, uint32_t max_events,
    const std::function<void(const DecodedBatchHeader&, const DecodedEvent&)>& on_event) {
  ByteReader r(raw);
  uint8_t version = 0;
  DecodedBatchHeader header;
  if (!r.get_u8(version) || version != kBatchVersion) {
    return corruption("batch has unknown format version " + std::to_string(version));
  }
  uint64_t stream_count = 0;
  // A stream takes at least three bytes.
  if (!r.get_bytes(header.host) || !r.get_varint(stream_count) ||
      stream_count > r.remaining() / 3) {
    return corruption("batch header is malformed");
  }
  header.streams.resize(stream_count);
  for (DecodedStream& s : header.streams) {
    if (!r.get_bytes(s.collector) || !r.get_bytes(s.source) || !read_fields(r, s.fields)) {
      return corruption("batch stream table is malformed");
    }
  }
  uint64_t event_count = 0;
  if (!r.get_varint(event_count) || event_count > max_events) {
    return corruption("batch holds " + std::to_string(event_count) +
                      " events, more than the limit of " + std::to_string(max_events));
  }
  header.event_count = static_cast<uint32_t>(event_count);
  DecodedEvent event;
  for (uint64_t i = 0; i < event_count; ++i) {
    uint64_t time = 0;
    uint64_t stream = 0;
    if (!r.get_u64(time) || !r.get_varint(stream) || stream >= stream_count ||
        !r.get_varint(event.offset) || !read_fields(r, event.fields) ||
        !r.get_bytes(event.message)) {
      return corruption("batch event " + std::to_string(i) + " is malformed");
    }
    event.time_ns = static_cast<int64_t>(time);
    event.stream = &header.streams[stream];
    on_event(header, event);
  }
  if (!r.at_end()) {
    return corruption("batch has trailing bytes after its last event");
  }
  return Status::ok();
}

}  // namespace assas::transport
