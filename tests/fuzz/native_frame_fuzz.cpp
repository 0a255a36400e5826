// The native protocol's frames (transport/protocol/frame_codec.h), which assas-ingest decodes from
// any agent that connects and the agent decodes from its receiver. The input is a limit choice,
// then the stream, which is decoded twice: fed whole, and fed in pieces cut where the fuzzer
// chooses. Properties: any split gives the same frames and the same final error; a frame above
// the limit is refused; every decoded frame re-encodes to bytes that decode to the same encoding.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/fuzz/fuzz_support.h"
#include "transport/protocol/frame_codec.h"

namespace tr = assas::transport;

namespace {

struct Decoded {
  std::vector<std::string> frames;  // each re-encoded
  std::optional<assas::StatusCode> error;
};

// Takes every frame out of the decoder; false once it reported its (final) error.
bool drain(tr::FrameDecoder& decoder, uint32_t limit, Decoded& out) {
  while (true) {
    assas::Result<std::optional<tr::Frame>> next = decoder.next();
    if (!next.is_ok()) {
      out.error = next.status().code();
      return false;
    }
    if (!next->has_value()) {
      return true;
    }
    std::string encoded;
    tr::encode_frame(**next, encoded);
    ASSAS_FUZZ_CHECK(encoded.size() >= tr::kFrameHeaderBytes);
    ASSAS_FUZZ_CHECK(encoded.size() - 4 <= limit);
    // The re-encoding is canonical: decoding it and encoding again gives the same bytes.
    tr::FrameDecoder again(limit);
    again.feed(encoded);
    assas::Result<std::optional<tr::Frame>> round = again.next();
    ASSAS_FUZZ_CHECK(round.is_ok() && round->has_value());
    std::string reencoded;
    tr::encode_frame(**round, reencoded);
    ASSAS_FUZZ_CHECK(reencoded == encoded);
    ASSAS_FUZZ_CHECK(again.buffered_bytes() == 0);
    out.frames.push_back(std::move(encoded));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  assas::fuzz::FuzzInput in(data, size);
  // Small limits make "over the limit" reachable; 1 MiB stands for a real receiver's.
  uint32_t limit = in.byte() < 128 ? 1U << 20 : 1 + in.u16();
  std::string_view splits = in.sized(32);
  std::string_view stream = in.rest();

  Decoded whole;
  tr::FrameDecoder whole_decoder(limit);
  whole_decoder.feed(stream);
  drain(whole_decoder, limit, whole);

  Decoded pieces;
  tr::FrameDecoder piece_decoder(limit);
  assas::fuzz::feed_in_pieces(stream, splits, [&](std::string_view piece, size_t) {
    piece_decoder.feed(piece);
    return drain(piece_decoder, limit, pieces);
  });
  ASSAS_FUZZ_CHECK(whole.frames == pieces.frames);
  ASSAS_FUZZ_CHECK(whole.error == pieces.error);
  if (!whole.error) {
    assas::Status closed = whole_decoder.closed_mid_frame(assas::unavailable("peer closed"));
    ASSAS_FUZZ_CHECK(closed.code() == assas::StatusCode::kUnavailable);
  }
  return 0;
}
