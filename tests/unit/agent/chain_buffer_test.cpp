// The disk buffer's record version 2 (issue 10): chain fields stored, version-1 segments still
// read, signatures bounded, and the chain head found at open.

#include <string>

#include <catch2/catch.hpp>

#include "agent/buffer/disk_buffer.h"
#include "agent/buffer/segment_format.h"
#include "base/bytes.h"
#include "base/crc32c.h"
#include "base/file_util.h"
#include "buffer_test_support.h"
#include "tests/support/temp_dir.h"

namespace assas::agent {
namespace {

namespace fmt = segment_format;
using test::LoopHarness;
using test::make_record;

transport::Digest digest_of(uint8_t first) {
  transport::Digest d{};
  for (size_t i = 0; i < d.size(); ++i) {
    d[i] = static_cast<uint8_t>(first + i);
  }
  return d;
}

// A record linked after prev (seq - 1), with a link made up from its seq.
BufferRecord chained_record(uint64_t seq, std::string signature = "") {
  BufferRecord r = make_record(seq);
  r.chain.flags = transport::BatchChain::kChained;
  r.chain.prev_seq = seq - 1;
  r.chain.prev_link = seq > 1 ? digest_of(static_cast<uint8_t>(seq - 1)) : transport::Digest{};
  r.link = digest_of(static_cast<uint8_t>(seq));
  r.chain.signature = std::move(signature);
  return r;
}

void require_same_chain(const BufferRecord& got, const BufferRecord& want) {
  REQUIRE(got.seq == want.seq);
  REQUIRE(got.event_count == want.event_count);
  REQUIRE(got.positions == want.positions);
  REQUIRE(got.chain.flags == want.chain.flags);
  REQUIRE(got.chain.prev_seq == want.chain.prev_seq);
  REQUIRE(got.chain.prev_link == want.chain.prev_link);
  REQUIRE(got.chain.signature == want.chain.signature);
  REQUIRE(got.link == want.link);
  REQUIRE(*got.payload == *want.payload);
}

// A framed record around body: magic, length, masked CRC.
std::string frame(const std::string& body) {
  std::string out;
  put_u32(out, fmt::kRecordMagic);
  put_u32(out, static_cast<uint32_t>(body.size()));
  put_u32(out, crc32c::mask(crc32c::value(body)));
  return out + body;
}

// The body of r as a version-1 segment held it: no chain fields.
std::string v1_body(const BufferRecord& r) {
  std::string body;
  put_u64(body, r.seq);
  put_u32(body, r.event_count);
  put_u32(body, r.raw_size);
  put_u8(body, static_cast<uint8_t>(r.codec));
  put_varint(body, r.positions.size());
  for (const auto& [source_id, position] : r.positions) {
    put_bytes(body, source_id);
    put_varint(body, position.offset);
    put_bytes(body, position.token);
  }
  return body + *r.payload;
}

std::string v1_segment_header() {
  std::string out(fmt::kSegmentMagic);
  put_u32(out, 1);
  return out;
}

DiskBufferOptions options_in(const assas::test::TempDir& tmp, uint64_t cache_bytes = 0) {
  DiskBufferOptions options;
  options.dir = tmp.file("buffer");
  options.cache_bytes = cache_bytes;  // 0: every read goes to the disk
  return options;
}

}  // namespace

TEST_CASE("a version 2 record keeps its chain fields and signature through encode and decode",
          "[buffer][chain]") {
  BufferRecord record = chained_record(7, std::string(512, 's'));
  std::string encoded = fmt::encode_record(record);
  REQUIRE(encoded.size() == fmt::encoded_record_size(record));
  fmt::FrameResult frame_result = fmt::check_frame(encoded);
  REQUIRE(frame_result.check == fmt::FrameCheck::kOk);
  Result<BufferRecord> decoded = fmt::decode_record_body(frame_result.body);
  REQUIRE(decoded.is_ok());
  require_same_chain(*decoded, record);
  // An unchained record (integrity.chain: false) comes back unchained, with a zero link.
  BufferRecord plain = make_record(8);
  Result<BufferRecord> plain_back =
      fmt::decode_record_body(fmt::check_frame(fmt::encode_record(plain)).body);
  REQUIRE(plain_back.is_ok());
  REQUIRE(plain_back->chain.flags == 0);
  REQUIRE(plain_back->link == transport::Digest{});
  REQUIRE(plain_back->chain.signature.empty());
}

TEST_CASE("chain fields survive the disk buffer and a reopen", "[buffer][chain]") {
  assas::test::TempDir tmp;
  LoopHarness h;
  auto buffer = h.open(options_in(tmp));
  REQUIRE(h.append(*buffer, chained_record(1, "sig-1")).is_ok());
  REQUIRE(h.append(*buffer, chained_record(2)).is_ok());
  Result<BufferRecord> first = h.read_after(*buffer, 0);
  REQUIRE(first.is_ok());
  require_same_chain(*first, chained_record(1, "sig-1"));
  h.close(buffer);
  buffer = h.open(options_in(tmp));
  Result<BufferRecord> second = h.read_after(*buffer, 1);
  REQUIRE(second.is_ok());
  require_same_chain(*second, chained_record(2));
  h.close(buffer);
  h.finish();
}

TEST_CASE("a version 1 segment still opens and its records read back unchained",
          "[buffer][chain]") {
  assas::test::TempDir tmp;
  LoopHarness h;
  DiskBufferOptions options = options_in(tmp);
  REQUIRE(ensure_private_dir(options.dir).is_ok());
  assas::test::write_text_file(
      options.dir + "/" + fmt::segment_file_name(1),
      v1_segment_header() + frame(v1_body(make_record(1))) + frame(v1_body(make_record(2))));
  auto buffer = h.open(options);
  REQUIRE(buffer->recovery().records == 2);
  REQUIRE(buffer->recovery().corrupt_records == 0);
  REQUIRE_FALSE(buffer->recovery().chain_head.has_value());  // nothing to continue: a restart
  for (uint64_t after = 0; after < 2; ++after) {
    Result<BufferRecord> r = h.read_after(*buffer, after);
    REQUIRE(r.is_ok());
    BufferRecord want = make_record(after + 1);
    REQUIRE(r->seq == want.seq);
    REQUIRE(r->positions == want.positions);
    REQUIRE(*r->payload == *want.payload);
    REQUIRE(r->chain.flags == 0);
  }
  // New records go to a version 2 segment next to it; both read back after another reopen.
  REQUIRE(h.append(*buffer, chained_record(3, "sig")).is_ok());
  h.close(buffer);
  buffer = h.open(options);
  REQUIRE(buffer->recovery().records == 3);
  REQUIRE(buffer->recovery().corrupt_records == 0);
  Result<BufferRecord> old = h.read_after(*buffer, 1);
  REQUIRE(old.is_ok());
  REQUIRE(*old->payload == *make_record(2).payload);
  Result<BufferRecord> fresh = h.read_after(*buffer, 2);
  REQUIRE(fresh.is_ok());
  require_same_chain(*fresh, chained_record(3, "sig"));
  h.close(buffer);
  h.finish();
}

TEST_CASE("a record whose signature is longer than the bound is corrupt", "[buffer][chain]") {
  BufferRecord record = chained_record(5, std::string(fmt::kMaxSignatureBytes, 'x'));
  REQUIRE(fmt::check_frame(fmt::encode_record(record)).check == fmt::FrameCheck::kOk);
  record.chain.signature.push_back('x');  // one byte over
  std::string encoded = fmt::encode_record(record);
  fmt::FrameResult result = fmt::check_frame(encoded);
  REQUIRE(result.check == fmt::FrameCheck::kCorrupt);
  REQUIRE(std::string(result.why) == "record body is malformed");
  std::string_view body = std::string_view(encoded).substr(fmt::kRecordHeaderSize);
  Status why = fmt::decode_record_body(body).status();
  REQUIRE(why.code() == StatusCode::kCorruption);
  REQUIRE(why.message().find("signature") != std::string::npos);
  // A length that claims far more than the record holds fails the same way, allocating nothing.
  std::string huge = fmt::encode_record(chained_record(6));
  std::string body6 = huge.substr(fmt::kRecordHeaderSize);
  size_t at = body6.size() - make_record(6).payload->size() - 1;  // the empty signature's length
  REQUIRE(body6[at] == '\0');
  std::string lying = body6.substr(0, at);
  put_varint(lying, 1ULL << 40);
  lying += body6.substr(at + 1);
  REQUIRE(fmt::check_frame(frame(lying)).check == fmt::FrameCheck::kCorrupt);
}

TEST_CASE("recovery finds the chain head in the newest record only if it is chained",
          "[buffer][chain][recovery]") {
  assas::test::TempDir tmp;
  LoopHarness h;
  DiskBufferOptions options = options_in(tmp);
  options.segment_size_bytes = 300;  // several segments
  auto buffer = h.open(options);
  REQUIRE_FALSE(buffer->recovery().chain_head.has_value());
  for (uint64_t seq = 1; seq <= 6; ++seq) {
    REQUIRE(h.append(*buffer, chained_record(seq)).is_ok());
  }
  h.close(buffer);

  buffer = h.open(options);
  const std::optional<ChainHead>& head = buffer->recovery().chain_head;
  REQUIRE(head.has_value());
  REQUIRE(head->seq == 6);
  REQUIRE(head->link == chained_record(6).link);
  // Released records still say where the chain is: the head does not depend on acknowledgements.
  buffer->release(6);
  REQUIRE(h.append(*buffer, make_record(7)).is_ok());  // integrity.chain: false from here on
  h.close(buffer);

  buffer = h.open(options);
  REQUIRE_FALSE(buffer->recovery().chain_head.has_value());
  REQUIRE(buffer->last_seq() == 7);
  h.close(buffer);
  h.finish();
}

TEST_CASE("a torn newest record leaves the head at the newest record that verifies",
          "[buffer][chain][recovery]") {
  assas::test::TempDir tmp;
  LoopHarness h;
  DiskBufferOptions options = options_in(tmp);
  auto buffer = h.open(options);
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    REQUIRE(h.append(*buffer, chained_record(seq)).is_ok());
  }
  h.close(buffer);
  std::string path = options.dir + "/" + fmt::segment_file_name(1);
  std::string bytes = assas::test::read_text_file(path);
  size_t last = fmt::encoded_record_size(chained_record(3));
  assas::test::write_text_file(path, bytes.substr(0, bytes.size() - last / 2));  // tear record 3

  buffer = h.open(options);
  REQUIRE(buffer->recovery().corrupt_records == 1);
  REQUIRE(buffer->recovery().chain_head.has_value());
  REQUIRE(buffer->recovery().chain_head->seq == 2);
  REQUIRE(buffer->recovery().chain_head->link == chained_record(2).link);
  REQUIRE(buffer->last_seq() == 2);  // seq 3 is cut again, and linked again, after the head
  h.close(buffer);
  h.finish();
}

}  // namespace assas::agent
