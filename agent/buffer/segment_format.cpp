#include "agent/buffer/segment_format.h"

#include <algorithm>
#include <cstdio>

#include "base/bytes.h"
#include "base/crc32c.h"

namespace assas::agent::segment_format {

namespace {

size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// chain = u8 flags | u64 prev_seq | prev_link | link | bytes signature (version 2).
size_t chain_size(const BufferRecord& record) {
  const std::string& signature = record.chain.signature;
  return 1 + 8 + 2 * transport::kDigestBytes + varint_size(signature.size()) + signature.size();
}

size_t body_size(const BufferRecord& record) {
  size_t n = 8 + 4 + 4 + 1 + varint_size(record.positions.size());
  for (const auto& [source_id, position] : record.positions) {
    n += varint_size(source_id.size()) + source_id.size() + varint_size(position.offset) +
         varint_size(position.token.size()) + position.token.size();
  }
  n += chain_size(record);
  return n + (record.payload ? record.payload->size() : 0);
}

}  // namespace

std::string encode_segment_header() {
  std::string out(kSegmentMagic);
  put_u32(out, kSegmentVersion);
  return out;
}

Status check_segment_header(std::string_view bytes, uint32_t* version_out) {
  if (bytes.size() < kSegmentHeaderSize) {
    return corruption("segment header is cut short");
  }
  if (bytes.substr(0, kSegmentMagic.size()) != kSegmentMagic) {
    return corruption("not a segment file (bad magic)");
  }
  uint32_t version = load_u32(bytes.data() + kSegmentMagic.size());
  if (version < kOldestSegmentVersion || version > kSegmentVersion) {
    return corruption("unsupported segment version " + std::to_string(version));
  }
  if (version_out != nullptr) {
    *version_out = version;
  }
  return Status::ok();
}

size_t encoded_record_size(const BufferRecord& record) {
  return kRecordHeaderSize + body_size(record);
}

std::string encode_record(const BufferRecord& record) {
  std::string out;
  out.reserve(encoded_record_size(record));
  out.resize(kRecordHeaderSize);
  put_u64(out, record.seq);
  put_u32(out, record.event_count);
  put_u32(out, record.raw_size);
  put_u8(out, static_cast<uint8_t>(record.codec));
  put_varint(out, record.positions.size());
  for (const auto& [source_id, position] : record.positions) {
    put_bytes(out, source_id);
    put_varint(out, position.offset);
    put_bytes(out, position.token);
  }
  put_u8(out, record.chain.flags);
  put_u64(out, record.chain.prev_seq);
  out.append(reinterpret_cast<const char*>(record.chain.prev_link.data()),
             record.chain.prev_link.size());
  out.append(reinterpret_cast<const char*>(record.link.data()), record.link.size());
  put_bytes(out, record.chain.signature);
  if (record.payload) {
    out.append(*record.payload);
  }
  size_t body = out.size() - kRecordHeaderSize;
  store_u32(out.data(), kRecordMagic);
  store_u32(out.data() + 4, static_cast<uint32_t>(body));
  store_u32(out.data() + 8, crc32c::mask(crc32c::extend(0, out.data() + kRecordHeaderSize, body)));
  return out;
}

namespace {

void copy_digest(std::string_view bytes, transport::Digest& out) {
  std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(out.data()));
}

// The chain fields of a version-2 body. The signature's length is bounded before it is copied.
Status parse_chain(ByteReader& in, BufferRecord* out) {
  uint8_t flags = 0;
  uint64_t prev_seq = 0;
  std::string_view prev_link;
  std::string_view link;
  std::string_view signature;
  if (!in.get_u8(flags) || !in.get_u64(prev_seq) ||
      !in.get_raw(prev_link, transport::kDigestBytes) ||
      !in.get_raw(link, transport::kDigestBytes)) {
    return corruption("record chain fields are cut short");
  }
  if (!in.get_bytes(signature, kMaxSignatureBytes)) {
    return corruption("record signature is malformed or longer than " +
                      std::to_string(kMaxSignatureBytes) + " bytes");
  }
  if (out != nullptr) {
    out->chain.flags = flags;
    out->chain.prev_seq = prev_seq;
    copy_digest(prev_link, out->chain.prev_link);
    copy_digest(link, out->link);
    out->chain.signature.assign(signature);
  }
  return Status::ok();
}

// Parses a body; with out == nullptr it only validates, allocating nothing (recovery scans every
// record of every segment, and the payload copies would be wasted there).
Status parse_body(std::string_view body, uint32_t version, BufferRecord* out) {
  ByteReader in(body);
  BufferRecord header;
  uint8_t codec = 0;
  uint64_t count = 0;
  if (!in.get_u64(header.seq) || !in.get_u32(header.event_count) || !in.get_u32(header.raw_size) ||
      !in.get_u8(codec) || !in.get_varint(count)) {
    return corruption("record body is cut short");
  }
  Result<transport::Codec> parsed = transport::codec_from_byte(codec);
  if (!parsed.is_ok()) {
    return corruption("record has an unknown codec " + std::to_string(codec));
  }
  header.codec = parsed.value();
  // Each position takes at least 3 bytes, so this bounds the reservation by the input too.
  if (count > kMaxPositions || count > in.remaining() / 3) {
    return corruption("record has an impossible position count");
  }
  if (out != nullptr) {
    header.positions.reserve(static_cast<size_t>(count));
  }
  for (uint64_t i = 0; i < count; ++i) {
    std::string_view source_id;
    std::string_view token;
    uint64_t offset = 0;
    if (!in.get_bytes(source_id, kMaxIdBytes) || !in.get_varint(offset) ||
        !in.get_bytes(token, kMaxIdBytes)) {
      return corruption("record position " + std::to_string(i) + " is malformed");
    }
    if (out != nullptr) {
      header.positions.emplace_back(std::string(source_id),
                                    SourcePosition{offset, std::string(token)});
    }
  }
  if (version >= 2) {
    ASSAS_RETURN_IF_ERROR(parse_chain(in, out != nullptr ? &header : nullptr));
  }
  if (out != nullptr) {
    header.payload = std::make_shared<const std::string>(in.rest());
    *out = std::move(header);
  }
  return Status::ok();
}

}  // namespace

Result<BufferRecord> decode_record_body(std::string_view body, uint32_t version) {
  BufferRecord record;
  ASSAS_RETURN_IF_ERROR(parse_body(body, version, &record));
  return record;
}

FrameResult check_frame(std::string_view data, uint32_t version) {
  FrameResult result;
  if (data.size() < 4) {
    result.check = FrameCheck::kTruncated;
    result.why = "record header is cut short";
    return result;
  }
  if (load_u32(data.data()) != kRecordMagic) {
    result.why = "bad record magic";
    return result;
  }
  if (data.size() < kRecordHeaderSize) {
    result.check = FrameCheck::kTruncated;
    result.why = "record header is cut short";
    return result;
  }
  uint32_t length = load_u32(data.data() + 4);
  if (length > kMaxBodyBytes) {
    result.why = "record length is over the limit";
    return result;
  }
  if (data.size() - kRecordHeaderSize < length) {
    result.check = FrameCheck::kTruncated;
    result.why = "record body is cut short";
    return result;
  }
  std::string_view body = data.substr(kRecordHeaderSize, length);
  uint32_t expected = crc32c::unmask(load_u32(data.data() + 8));
  if (crc32c::value(body) != expected) {
    result.why = "record checksum mismatch";
    return result;
  }
  // Framing is fine; the body must parse too, or it is not a record we wrote.
  if (!parse_body(body, version, nullptr).is_ok()) {
    result.why = "record body is malformed";
    return result;
  }
  result.check = FrameCheck::kOk;
  result.frame_bytes = kRecordHeaderSize + length;
  result.body = body;
  return result;
}

std::string segment_file_name(uint64_t first_seq) {
  char name[32];
  std::snprintf(name, sizeof name, "%020llu.seg", static_cast<unsigned long long>(first_seq));
  return name;
}

bool parse_segment_file_name(std::string_view name, uint64_t& first_seq) {
  if (name.size() != 24 || name.substr(20) != ".seg") {
    return false;
  }
  return parse_decimal_u64(name.substr(0, 20), first_seq);
}

}  // namespace assas::agent::segment_format
