// RELP (transport/relp/relp_frame.h): the frames, rsp data and offers a RELP server sends to the
// RELP output. The input is a mode byte and then
//   0: a limit choice, split points and the stream: decoded fed whole and fed in pieces; every
//      rsp frame's data is parsed as a response, and a 200 response's data as offers;
//   1: rsp data, parsed as a response;
//   2: offers.
// Properties: any split gives the same frames and the same error, and an error is final (next()
// repeats it); a frame's data is within the limit and its TXNR and command are what
// encode_relp_frame accepts, and encoding it gives a stream that decodes to the same frame; a
// response's code is 0..999; offers respect librelp's limits.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "tests/fuzz/fuzz_support.h"
#include "transport/relp/relp_frame.h"

namespace tr = assas::transport;

namespace {

using Frame = std::tuple<uint32_t, std::string, std::string>;

struct Decoded {
  std::vector<Frame> frames;
  std::optional<std::string> error;
};

void check_response(std::string_view data) {
  assas::Result<tr::RelpResponse> response = tr::parse_relp_response(data);
  if (!response.is_ok()) {
    return;
  }
  ASSAS_FUZZ_CHECK(response->code >= 0 && response->code <= 999);
  ASSAS_FUZZ_CHECK(response->text.size() <= data.size() && response->data.size() <= data.size());
  if (response->code == 200) {
    (void)tr::parse_relp_offers(response->data);
  }
}

void check_offers(std::string_view data) {
  assas::Result<tr::RelpOffers> offers = tr::parse_relp_offers(data);
  if (!offers.is_ok()) {
    return;
  }
  ASSAS_FUZZ_CHECK(offers->relp_version >= 0);
  // relp_software is its values ("name,version,url") as sent: each value within the limit, and
  // at most 64 that are not empty.
  size_t values = 0;
  for (size_t start = 0; start <= offers->software.size();) {
    size_t comma = std::min(offers->software.find(',', start), offers->software.size());
    ASSAS_FUZZ_CHECK(comma - start <= 255);
    values += comma > start ? 1 : 0;
    start = comma + 1;
  }
  ASSAS_FUZZ_CHECK(values <= 64);
  ASSAS_FUZZ_CHECK(offers->commands.size() <= 64);
  for (const std::string& command : offers->commands) {
    ASSAS_FUZZ_CHECK(command.size() <= 255);
  }
}

bool is_command(std::string_view command) {
  return !command.empty() && command.size() <= 32 &&
         std::all_of(command.begin(), command.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); });
}

// Takes every frame out; false once the decoder reported its (final) error.
bool drain(tr::RelpFrameDecoder& decoder, size_t limit, Decoded& out) {
  while (true) {
    assas::Result<std::optional<tr::RelpFrame>> next = decoder.next();
    if (!next.is_ok()) {
      out.error = next.status().message();
      assas::Result<std::optional<tr::RelpFrame>> again = decoder.next();
      ASSAS_FUZZ_CHECK(!again.is_ok() && again.status().message() == *out.error);
      return false;
    }
    if (!next->has_value()) {
      return true;
    }
    const tr::RelpFrame& frame = **next;
    ASSAS_FUZZ_CHECK(frame.txnr <= tr::kRelpMaxTxnr);
    ASSAS_FUZZ_CHECK(is_command(frame.command));
    ASSAS_FUZZ_CHECK(frame.data.size() <= limit);
    Frame owned(frame.txnr, std::string(frame.command), std::string(frame.data));
    if (frame.command == "rsp" && !frame.data.empty()) {
      check_response(frame.data);
    }
    // Encoding gives the frame back.
    std::string encoded;
    tr::encode_relp_frame(frame.txnr, frame.command, frame.data, encoded);
    tr::RelpFrameDecoder round(limit);
    round.feed(encoded);
    assas::Result<std::optional<tr::RelpFrame>> back = round.next();
    ASSAS_FUZZ_CHECK(back.is_ok() && back->has_value());
    ASSAS_FUZZ_CHECK(
        Frame((*back)->txnr, std::string((*back)->command), std::string((*back)->data)) == owned);
    ASSAS_FUZZ_CHECK(!round.mid_frame());
    out.frames.push_back(std::move(owned));
  }
}

void decode_stream(assas::fuzz::FuzzInput& in) {
  // Small limits reach "DATALEN above the limit" with small inputs.
  size_t limit = in.byte() < 128 ? tr::kRelpDefaultMaxDataBytes : in.u16();
  std::string_view splits = in.sized(64);
  std::string_view stream = in.rest();

  Decoded whole;
  tr::RelpFrameDecoder whole_decoder(limit);
  whole_decoder.feed(stream);
  drain(whole_decoder, limit, whole);

  Decoded pieces;
  tr::RelpFrameDecoder piece_decoder(limit);
  assas::fuzz::feed_in_pieces(stream, splits, [&](std::string_view piece, size_t) {
    piece_decoder.feed(piece);
    return drain(piece_decoder, limit, pieces);
  });
  ASSAS_FUZZ_CHECK(whole.frames == pieces.frames);
  ASSAS_FUZZ_CHECK(whole.error.has_value() == pieces.error.has_value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  assas::fuzz::FuzzInput in(data, size);
  switch (in.byte() % 3) {
    case 0:
      decode_stream(in);
      break;
    case 1:
      check_response(in.rest());
      break;
    default:
      check_offers(in.rest());
  }
  return 0;
}
