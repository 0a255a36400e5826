// Disk-buffer segment bytes (agent/buffer/segment_format.h): a segment file may be damaged or
// written by someone else, and recovery reads it at every start. The input is a mode byte and then
//   0: segment bytes, walked as the recovery scanner walks them (header, then check_frame at each
//      offset, skipping a byte after a corrupt one);
//   1: a record body, framed here with a correct length and CRC, so that the fuzzer reaches the
//      body parser behind the checksum;
//   2: a segment file name.
// Properties: a frame check_frame accepts decodes (the scanner CHECKs that), and a decoded record
// re-encodes to a frame that verifies and decodes to the same encoding again.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/buffer/segment_format.h"
#include "base/bytes.h"
#include "base/crc32c.h"
#include "tests/fuzz/fuzz_support.h"

namespace fmt = assas::agent::segment_format;

namespace {

// A record that decoded re-encodes to a frame that verifies, and that is stable from then on.
void check_round_trip(const assas::agent::BufferRecord& record) {
  std::string encoded = fmt::encode_record(record);
  ASSAS_FUZZ_CHECK(encoded.size() == fmt::encoded_record_size(record));
  fmt::FrameResult again = fmt::check_frame(encoded);
  ASSAS_FUZZ_CHECK(again.check == fmt::FrameCheck::kOk);
  ASSAS_FUZZ_CHECK(again.frame_bytes == encoded.size());
  assas::Result<assas::agent::BufferRecord> decoded = fmt::decode_record_body(again.body);
  ASSAS_FUZZ_CHECK(decoded.is_ok());
  ASSAS_FUZZ_CHECK(decoded->seq == record.seq && decoded->event_count == record.event_count &&
                   decoded->raw_size == record.raw_size && decoded->codec == record.codec &&
                   decoded->positions == record.positions);
  ASSAS_FUZZ_CHECK(*decoded->payload == *record.payload);
  ASSAS_FUZZ_CHECK(fmt::encode_record(*decoded) == encoded);
}

// What check_frame says about data, checked against what decoding the body says.
fmt::FrameResult check_and_decode(std::string_view data) {
  fmt::FrameResult frame = fmt::check_frame(data);
  if (frame.check == fmt::FrameCheck::kOk) {
    ASSAS_FUZZ_CHECK(frame.frame_bytes <= data.size());
    ASSAS_FUZZ_CHECK(frame.frame_bytes == fmt::kRecordHeaderSize + frame.body.size());
    assas::Result<assas::agent::BufferRecord> record = fmt::decode_record_body(frame.body);
    ASSAS_FUZZ_CHECK(record.is_ok());
    check_round_trip(*record);
  }
  return frame;
}

void walk_segment(std::string_view data) {
  (void)fmt::check_segment_header(data);
  size_t off = data.size() < fmt::kSegmentHeaderSize ? data.size() : fmt::kSegmentHeaderSize;
  while (off < data.size()) {
    fmt::FrameResult frame = check_and_decode(data.substr(off));
    off += frame.check == fmt::FrameCheck::kOk ? frame.frame_bytes : 1;
  }
}

void frame_body(std::string_view body) {
  std::string framed;
  assas::put_u32(framed, fmt::kRecordMagic);
  assas::put_u32(framed, static_cast<uint32_t>(body.size()));
  assas::put_u32(framed, assas::crc32c::mask(assas::crc32c::value(body)));
  framed += body;
  fmt::FrameResult frame = check_and_decode(framed);
  // The framing is right, so only the body can be refused, and then decoding refuses it too.
  if (frame.check != fmt::FrameCheck::kOk) {
    ASSAS_FUZZ_CHECK(frame.check == fmt::FrameCheck::kCorrupt);
    ASSAS_FUZZ_CHECK(!fmt::decode_record_body(body).is_ok());
  }
}

void file_name(std::string_view name) {
  uint64_t seq = 0;
  if (fmt::parse_segment_file_name(name, seq)) {
    ASSAS_FUZZ_CHECK(fmt::segment_file_name(seq) == name);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  assas::fuzz::FuzzInput in(data, size);
  switch (in.byte() % 3) {
    case 0:
      walk_segment(in.rest());
      break;
    case 1:
      frame_body(in.rest());
      break;
    default:
      file_name(in.rest());
  }
  return 0;
}
