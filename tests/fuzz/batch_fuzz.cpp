// Batch payloads (transport/protocol/compression.h, batch_codec.h): what assas-ingest inflates and
// decodes from every agent. The input is a mode byte and then
//   0: a raw batch (decoded as it is);
//   1: a raw batch, compressed here with zstd first, so that decompression is exercised on valid
//      frames too (the result must be the input);
//   2: a codec byte, a declared size, a limit and a payload: decompressed under those bounds.
// Properties: decompression gives exactly the declared size, never more than the limit; a batch
// that decodes has at most max_events events whose streams are its own, and re-encodes
// (BatchEncoder) to a batch that decodes to the same host, streams and events.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/fuzz/fuzz_support.h"
#include "transport/protocol/batch_codec.h"
#include "transport/protocol/compression.h"

namespace tr = assas::transport;

namespace {

struct OwnedStream {
  std::string collector;
  std::string source;
  std::vector<tr::Field> fields;
  bool operator==(const OwnedStream&) const = default;
};

struct OwnedEvent {
  int64_t time_ns = 0;
  uint32_t stream = 0;
  uint64_t offset = 0;
  std::string message;
  std::vector<tr::Field> fields;
  bool operator==(const OwnedEvent&) const = default;
};

struct OwnedBatch {
  std::optional<std::string> host;  // known once an event was decoded
  std::vector<OwnedStream> streams;
  std::vector<OwnedEvent> events;
  bool operator==(const OwnedBatch&) const = default;
};

std::vector<tr::Field> own(const std::vector<tr::FieldView>& fields) {
  return {fields.begin(), fields.end()};
}

assas::Status decode(std::string_view raw, uint32_t max_events, OwnedBatch& out) {
  return tr::decode_batch(
      raw, max_events, [&](const tr::DecodedBatchHeader& header, const tr::DecodedEvent& event) {
        if (!out.host) {
          out.host = std::string(header.host);
          for (const tr::DecodedStream& stream : header.streams) {
            out.streams.push_back(
                {std::string(stream.collector), std::string(stream.source), own(stream.fields)});
          }
        }
        ASSAS_FUZZ_CHECK(event.stream >= header.streams.data() &&
                         event.stream < header.streams.data() + header.streams.size());
        auto index = static_cast<uint32_t>(event.stream - header.streams.data());
        out.events.push_back(
            {event.time_ns, index, event.offset, std::string(event.message), own(event.fields)});
      });
}

std::string encode(const OwnedBatch& batch) {
  tr::BatchEncoder encoder;
  for (const OwnedStream& stream : batch.streams) {
    encoder.add_stream(stream.collector, stream.source, stream.fields);
  }
  for (const OwnedEvent& event : batch.events) {
    std::vector<tr::FieldView> fields(event.fields.begin(), event.fields.end());
    encoder.add_event(event.time_ns, event.stream, event.offset, event.message, fields);
  }
  ASSAS_FUZZ_CHECK(encoder.event_count() == batch.events.size());
  return encoder.finish(batch.host.value_or(""));
}

void check_batch(std::string_view raw, uint32_t max_events) {
  OwnedBatch batch;
  if (!decode(raw, max_events, batch).is_ok()) {
    return;
  }
  ASSAS_FUZZ_CHECK(batch.events.size() <= max_events);
  std::string encoded = encode(batch);
  OwnedBatch again;
  ASSAS_FUZZ_CHECK(decode(encoded, max_events, again).is_ok());
  if (batch.events.empty()) {
    // Without an event the callback never ran: only the emptiness can be compared.
    ASSAS_FUZZ_CHECK(again.events.empty());
  } else {
    ASSAS_FUZZ_CHECK(again == batch);
  }
  ASSAS_FUZZ_CHECK(encode(again) == encoded);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  assas::fuzz::FuzzInput in(data, size);
  uint8_t mode = in.byte() % 3;
  uint32_t max_events = in.byte() < 16 ? 1 + in.byte() % 4 : 100000;
  // Reused as the receiver reuses them, so that state left by one payload meets the next.
  static tr::Decompressor decompressor;
  std::string raw;
  if (mode == 0) {
    raw = in.rest();
  } else if (mode == 1) {
    static tr::Compressor compressor(1);
    std::string_view input = in.rest();
    std::string compressed;
    ASSAS_FUZZ_CHECK(compressor.compress(tr::Codec::kZstd, input, compressed).is_ok());
    auto declared = static_cast<uint32_t>(input.size());
    ASSAS_FUZZ_CHECK(
        decompressor.decompress(tr::Codec::kZstd, compressed, declared, declared, raw).is_ok());
    ASSAS_FUZZ_CHECK(raw == input);
  } else {
    assas::Result<tr::Codec> codec = tr::codec_from_byte(in.byte());
    uint32_t max_size = 1 + (static_cast<uint32_t>(in.u16()) << 4);  // up to 1 MiB
    uint32_t declared = in.u32() % (2 * max_size);
    std::string_view payload = in.rest();
    if (!codec.is_ok()) {
      return 0;
    }
    assas::Status status = decompressor.decompress(*codec, payload, declared, max_size, raw);
    if (!status.is_ok()) {
      ASSAS_FUZZ_CHECK(declared <= max_size ||
                       status.code() == assas::StatusCode::kResourceExhausted);
      return 0;
    }
    ASSAS_FUZZ_CHECK(declared <= max_size);
    ASSAS_FUZZ_CHECK(raw.size() == declared);
  }
  check_batch(raw, max_events);
  return 0;
}
