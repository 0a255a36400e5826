#include "transport/protocol/batch_codec.h"

#include <catch2/catch.hpp>

#include "transport/protocol/compression.h"

namespace assas::transport {

namespace {
struct Seen {
  std::string host, collector, source, message;
  int64_t time_ns;
  uint64_t offset;
  std::vector<std::pair<std::string, std::string>> stream_fields, event_fields;
};

std::vector<Seen> decode_all(const std::string& raw, Status& status) {
  std::vector<Seen> out;
  status = decode_batch(raw, 1000, [&](const DecodedBatchHeader& h, const DecodedEvent& e) {
    Seen s{std::string(h.host),
           std::string(e.stream->collector),
           std::string(e.stream->source),
           std::string(e.message),
           e.time_ns,
           e.offset,
           {},
           {}};
    for (auto& f : e.stream->fields) {
      s.stream_fields.emplace_back(f.first, f.second);
    }
    for (auto& f : e.fields) {
      s.event_fields.emplace_back(f.first, f.second);
    }
    out.push_back(s);
  });
  return out;
}
}  // namespace

TEST_CASE("a batch round-trips every byte of its events and streams", "[batch_codec]") {
  BatchEncoder enc;
  std::vector<Field> fields = {{"service", "nginx"}};
  uint32_t a = enc.add_stream("nginx", "/var/log/nginx/access.log", fields);
  uint32_t b = enc.add_stream("auth", "/var/log/auth.log", {});
  std::string binary("bin\0ary\xff\r", 9);
  std::vector<FieldView> ev_fields = {{"severity", "4"}};
  enc.add_event(1700000000123456789, a, 0, "GET / 200");
  enc.add_event(1700000000123456790, b, 42, binary, ev_fields);
  REQUIRE(enc.event_count() == 2);
  std::string raw = enc.finish("web-01");
  REQUIRE(enc.empty());

  Status status;
  std::vector<Seen> seen = decode_all(raw, status);
  REQUIRE(status.is_ok());
  REQUIRE(seen.size() == 2);
  REQUIRE(seen[0].host == "web-01");
  REQUIRE(seen[0].collector == "nginx");
  REQUIRE(seen[0].stream_fields.at(0).second == "nginx");
  REQUIRE(seen[0].message == "GET / 200");
  REQUIRE(seen[1].source == "/var/log/auth.log");
  REQUIRE(seen[1].offset == 42);
  REQUIRE(seen[1].message == binary);
  REQUIRE(seen[1].event_fields.at(0).first == "severity");
  REQUIRE(seen[1].time_ns == 1700000000123456790);
}

TEST_CASE("every truncation of a batch is refused as corrupt, never read past", "[batch_codec]") {
  BatchEncoder enc;
  uint32_t s = enc.add_stream("c", "/x", {});
  for (int i = 0; i < 5; ++i) {
    enc.add_event(i, s, i * 10, "line " + std::to_string(i));
  }
  std::string raw = enc.finish("h");
  for (size_t cut = 0; cut < raw.size(); ++cut) {
    Status status;
    decode_all(raw.substr(0, cut), status);
    REQUIRE(status.code() == StatusCode::kCorruption);
  }
}

TEST_CASE("a batch with more events than allowed is refused", "[batch_codec]") {
  BatchEncoder enc;
  uint32_t s = enc.add_stream("c", "/x", {});
  for (int i = 0; i < 3; ++i) {
    enc.add_event(i, s, i, "x");
  }
  std::string raw = enc.finish("h");
  Status status = decode_batch(raw, 2, [](const auto&, const auto&) {});
  REQUIRE(status.code() == StatusCode::kCorruption);
}

TEST_CASE("decompression refuses a payload that inflates past its declared size", "[compression]") {
  Compressor c(3);
  std::string raw(100000, 'a');
  std::string packed;
  REQUIRE(c.compress(Codec::kZstd, raw, packed).is_ok());
  REQUIRE(packed.size() < 1000);
  Decompressor d;
  std::string out;
  REQUIRE(d.decompress(Codec::kZstd, packed, 100000, 1 << 20, out).is_ok());
  REQUIRE(out == raw);
  REQUIRE(d.decompress(Codec::kZstd, packed, 1000, 1 << 20, out).code() == StatusCode::kCorruption);
  REQUIRE(d.decompress(Codec::kZstd, packed, 100000, 50000, out).code() ==
          StatusCode::kResourceExhausted);
  REQUIRE(d.decompress(Codec::kZstd, "garbage", 10, 100, out).code() == StatusCode::kCorruption);
}

TEST_CASE("a batch that declares far more than it holds is refused without allocating it",
          "[compression]") {
  Compressor c(3);
  std::string packed;
  REQUIRE(c.compress(Codec::kZstd, std::string(100, 'a'), packed).is_ok());
  Decompressor d;
  std::string out;
  Status s = d.decompress(Codec::kZstd, packed, 64U << 20, 64U << 20, out);
  REQUIRE(s.code() == StatusCode::kCorruption);
  REQUIRE(s.message() == "zstd batch decompressed to 100 bytes, not the declared 67108864");
  REQUIRE(out.capacity() < (1U << 20));  // it once resized to the declared 64 MiB first
}

TEST_CASE("zstd payloads of several frames or without a stated size decompress and cut ones do not",
          "[compression]") {
  Compressor c(3);
  std::string first(1000, 'a');
  std::string second(2000, 'b');
  std::string packed;
  REQUIRE(c.compress(Codec::kZstd, first, packed).is_ok());
  REQUIRE(c.compress(Codec::kZstd, second, packed).is_ok());  // appended: a second frame
  Decompressor d;
  std::string out;
  REQUIRE(d.decompress(Codec::kZstd, packed, 3000, 1 << 20, out).is_ok());
  REQUIRE(out == first + second);
  REQUIRE(d.decompress(Codec::kZstd, packed, 2999, 1 << 20, out).code() == StatusCode::kCorruption);

  // A streamed frame does not state its content size; the output grows past its first step.
  std::string raw;
  for (int i = 0; raw.size() < 300000; ++i) {
    raw += "line " + std::to_string(i * 7919 % 100003) + "\n";
  }
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  std::string streamed(ZSTD_compressBound(raw.size()), '\0');
  ZSTD_outBuffer o{streamed.data(), streamed.size(), 0};
  ZSTD_inBuffer i{raw.data(), raw.size(), 0};
  REQUIRE(ZSTD_isError(ZSTD_compressStream2(cctx, &o, &i, ZSTD_e_continue)) == 0);
  ZSTD_inBuffer none{nullptr, 0, 0};
  REQUIRE(ZSTD_compressStream2(cctx, &o, &none, ZSTD_e_end) == 0);
  ZSTD_freeCCtx(cctx);
  streamed.resize(o.pos);
  REQUIRE(ZSTD_getFrameContentSize(streamed.data(), streamed.size()) == ZSTD_CONTENTSIZE_UNKNOWN);
  auto size = static_cast<uint32_t>(raw.size());
  REQUIRE(d.decompress(Codec::kZstd, streamed, size, 1 << 20, out).is_ok());
  REQUIRE(out == raw);
  REQUIRE(d.decompress(Codec::kZstd, streamed, size - 1, 1 << 20, out).code() ==
          StatusCode::kCorruption);
  REQUIRE(d.decompress(Codec::kZstd, streamed, size + 1, 1 << 20, out).code() ==
          StatusCode::kCorruption);
  std::string cut = streamed.substr(0, streamed.size() - 10);
  REQUIRE(d.decompress(Codec::kZstd, cut, size, 1 << 20, out).code() == StatusCode::kCorruption);
  REQUIRE(
      d.decompress(Codec::kZstd, packed.substr(0, packed.size() - 3), 3000, 1 << 20, out).code() ==
      StatusCode::kCorruption);
}

}  // namespace assas::transport
