#include "transport/relp/relp_frame.h"

#include <catch2/catch.hpp>

namespace assas::transport {
namespace {

// What librelp's server answers to an open that offers syslog (copen.c, relpSessConstructOffers):
// the same bytes that librelp 1.2.7's client sends as its own offers, after "200 OK\n".
constexpr std::string_view kLibrelpOffers =
    "relp_version=0\nrelp_software=librelp,1.2.7,http://librelp.adiscon.com\ncommands=syslog";

struct Decoded {
  uint32_t txnr;
  std::string command;
  std::string data;
};

// Feeds wire in pieces of `step` bytes and takes out every frame, copying it before the views go.
std::vector<Decoded> decode_all(std::string_view wire, size_t step, size_t max_data = 1024) {
  RelpFrameDecoder decoder(max_data);
  std::vector<Decoded> frames;
  for (size_t pos = 0; pos < wire.size(); pos += step) {
    decoder.feed(wire.substr(pos, step));
    while (true) {
      Result<std::optional<RelpFrame>> frame = decoder.next();
      REQUIRE(frame.is_ok());
      if (!frame->has_value()) {
        break;
      }
      const RelpFrame& f = **frame;
      frames.push_back({f.txnr, std::string(f.command), std::string(f.data)});
    }
  }
  REQUIRE_FALSE(decoder.mid_frame());
  return frames;
}

// The error that decoding wire all at once ends in.
Status decode_error(std::string_view wire, size_t max_data = 1024) {
  RelpFrameDecoder decoder(max_data);
  decoder.feed(wire);
  while (true) {
    Result<std::optional<RelpFrame>> frame = decoder.next();
    if (!frame.is_ok()) {
      return frame.status();
    }
    if (!frame->has_value()) {
      return Status::ok();
    }
  }
}

std::string encode(uint32_t txnr, std::string_view command, std::string_view data) {
  std::string out;
  encode_relp_frame(txnr, command, data, out);
  return out;
}

}  // namespace

TEST_CASE("a frame encodes as TXNR command DATALEN data and an LF", "[relp]") {
  REQUIRE(encode(2, "syslog", "<13>hello 1") == "2 syslog 11 <13>hello 1\n");
  REQUIRE(encode(999999999, "syslog", "x") == "999999999 syslog 1 x\n");
}

TEST_CASE("a frame without data has no space after its DATALEN of 0", "[relp]") {
  REQUIRE(encode(3, "close", "") == "3 close 0\n");
}

TEST_CASE("encoding appends to what the buffer already holds", "[relp]") {
  std::string out = "1 open 0\n";
  encode_relp_frame(2, "syslog", "a\nb", out);
  REQUIRE(out == "1 open 0\n2 syslog 3 a\nb\n");
}

TEST_CASE("our open frame carries librelp's offer layout with our software", "[relp]") {
  std::string offers = relp_client_offers("assas,0.1.0,https://example.org/assas");
  REQUIRE(offers ==
          "relp_version=0\nrelp_software=assas,0.1.0,https://example.org/assas\ncommands=syslog");
  // Our offers are what our own parser and a librelp server read as relp_version 0 with syslog.
  Result<RelpOffers> parsed = parse_relp_offers(offers);
  REQUIRE(parsed.is_ok());
  REQUIRE(parsed->relp_version == 0);
  REQUIRE(parsed->commands == std::vector<std::string>{"syslog"});
}

TEST_CASE("the txnr counts up to 999999999 and then starts again at 1", "[relp]") {
  REQUIRE(next_relp_txnr(0) == 1);
  REQUIRE(next_relp_txnr(1) == 2);
  REQUIRE(next_relp_txnr(999999998) == 999999999);
  REQUIRE(next_relp_txnr(kRelpMaxTxnr) == 1);
}

TEST_CASE("librelp's open answer decodes whole when fed one byte at a time", "[relp]") {
  std::string wire = "1 rsp 92 200 OK\n" + std::string(kLibrelpOffers) + "\n";
  for (size_t step : {size_t{1}, size_t{2}, size_t{7}, wire.size()}) {
    CAPTURE(step);
    std::vector<Decoded> frames = decode_all(wire, step);
    REQUIRE(frames.size() == 1);
    REQUIRE(frames[0].txnr == 1);
    REQUIRE(frames[0].command == "rsp");
    REQUIRE(frames[0].data == "200 OK\n" + std::string(kLibrelpOffers));
  }
}

TEST_CASE("several frames in one read come out in order", "[relp]") {
  std::string wire = "2 rsp 6 200 OK\n3 rsp 20 500 command disabled\n4 rsp 0\n0 serverclose 0\n";
  std::vector<Decoded> frames = decode_all(wire, wire.size());
  REQUIRE(frames.size() == 4);
  REQUIRE(frames[0].txnr == 2);
  REQUIRE(frames[0].data == "200 OK");
  REQUIRE(frames[1].txnr == 3);
  REQUIRE(frames[1].data == "500 command disabled");
  REQUIRE(frames[2].txnr == 4);
  REQUIRE(frames[2].command == "rsp");
  REQUIRE(frames[2].data.empty());
  REQUIRE(frames[3].txnr == 0);
  REQUIRE(frames[3].command == "serverclose");
}

TEST_CASE("data may hold spaces LFs and any byte because DATALEN frames it", "[relp]") {
  std::string data("a b\n0 rsp 0\n\0\xff", 14);
  std::string wire = encode(7, "rsp", data);
  std::vector<Decoded> frames = decode_all(wire, 3);
  REQUIRE(frames.size() == 1);
  REQUIRE(frames[0].data == data);
}

TEST_CASE("encoded frames decode back to what was encoded", "[relp]") {
  std::string wire;
  encode_relp_frame(1, "open", relp_client_offers("assas,1,u"), wire);
  encode_relp_frame(2, "syslog", "<13>x", wire);
  encode_relp_frame(3, "close", "", wire);
  std::vector<Decoded> frames = decode_all(wire, 5);
  REQUIRE(frames.size() == 3);
  REQUIRE(frames[0].command == "open");
  REQUIRE(frames[0].data == relp_client_offers("assas,1,u"));
  REQUIRE(frames[1].data == "<13>x");
  REQUIRE(frames[2].txnr == 3);
  REQUIRE(frames[2].data.empty());
}

TEST_CASE("a decoder holding part of a frame says it is mid-frame", "[relp]") {
  RelpFrameDecoder decoder(1024);
  REQUIRE_FALSE(decoder.mid_frame());
  decoder.feed("5 rsp 6 200");
  REQUIRE_FALSE(decoder.next()->has_value());
  REQUIRE(decoder.mid_frame());
  decoder.feed(" OK\n");
  REQUIRE(decoder.next()->has_value());
  REQUIRE_FALSE(decoder.next()->has_value());
  REQUIRE_FALSE(decoder.mid_frame());
}

TEST_CASE("each malformed header is corruption naming what is wrong", "[relp]") {
  struct Case {
    const char* wire;
    const char* message;
  };
  auto [wire, message] = GENERATE(
      Case{"x rsp 0\n", "TXNR starts with 'x', not a digit"},
      Case{" 1 rsp 0\n", "TXNR starts with ' ', not a digit"},
      Case{"1234567890 rsp 0\n", "TXNR has more than 9 digits"},
      Case{"1\trsp 0\n", "0x09 after the TXNR where a space belongs"},
      Case{"1  0\n", "command starts with ' ', not a letter"},
      Case{"1 rsp2 0\n", "'2' after the command where a space belongs"},
      Case{"1 abcdefghijklmnopqrstuvwxyzabcdefg 0\n", "is longer than 32 letters"},
      Case{"1 rsp \n", "DATALEN starts with 0x0a, not a digit"},
      Case{"1 rsp 1234567890 ", "DATALEN has more than 9 digits"},
      Case{"1 rsp 0 \n", "' ' after DATALEN 0 where the LF trailer belongs"},
      Case{"1 rsp 0\r\n", "0x0d after DATALEN 0 where the LF trailer belongs"},
      Case{"1 rsp 6\n200 OK\n", "0x0a after the DATALEN where a space belongs"},
      Case{"1 rsp 2 200 OK\n", "'0' after 2 bytes of rsp data where the LF trailer belongs"},
      Case{"1 rsp 6 200 OK \n", "' ' after 6 bytes of rsp data"});
  CAPTURE(wire);
  Status status = decode_error(wire, 999999999);
  REQUIRE(status.code() == StatusCode::kCorruption);
  REQUIRE_THAT(status.message(), Catch::Contains("malformed RELP frame"));
  REQUIRE_THAT(status.message(), Catch::Contains(message));
}

TEST_CASE("a 32-letter command is the longest accepted", "[relp]") {
  std::string command(32, 'a');
  std::vector<Decoded> frames = decode_all("1 " + command + " 0\n", 1);
  REQUIRE(frames.size() == 1);
  REQUIRE(frames[0].command == command);
}

TEST_CASE("a malformed frame after good ones fails only once they are taken", "[relp]") {
  RelpFrameDecoder decoder(1024);
  decoder.feed("1 rsp 6 200 OK\n2 rsp x");
  auto first = decoder.next();
  REQUIRE(first.is_ok());
  REQUIRE((*first)->txnr == 1);
  REQUIRE(decoder.next().status().code() == StatusCode::kCorruption);
  // The error is final: asking again repeats it rather than resynchronising on garbage.
  REQUIRE(decoder.next().status().code() == StatusCode::kCorruption);
}

TEST_CASE("a DATALEN over the limit is refused before any data arrives", "[relp]") {
  RelpFrameDecoder decoder(100);
  decoder.feed("1 rsp 10");
  REQUIRE_FALSE(decoder.next()->has_value());  // 10 may still be under the limit
  decoder.feed("1");
  Status status = decoder.next().status();
  REQUIRE(status.code() == StatusCode::kCorruption);
  REQUIRE_THAT(status.message(), Catch::Contains("DATALEN of at least 101"));
  REQUIRE_THAT(status.message(), Catch::Contains("limit of 100 bytes"));
}

TEST_CASE("a DATALEN exactly at the limit is accepted", "[relp]") {
  std::string data(100, 'd');
  std::vector<Decoded> frames = decode_all(encode(1, "rsp", data), 9, 100);
  REQUIRE(frames.size() == 1);
  REQUIRE(frames[0].data == data);
}

TEST_CASE("an ok rsp gives its code and text", "[relp]") {
  Result<RelpResponse> rsp = parse_relp_response("200 OK");
  REQUIRE(rsp.is_ok());
  REQUIRE(rsp->code == 200);
  REQUIRE(rsp->text == "OK");
  REQUIRE(rsp->data.empty());
}

TEST_CASE("an error rsp gives its code and the reason text", "[relp]") {
  Result<RelpResponse> rsp = parse_relp_response("500 required command not supported by client");
  REQUIRE(rsp.is_ok());
  REQUIRE(rsp->code == 500);
  REQUIRE(rsp->text == "required command not supported by client");
}

TEST_CASE("an open rsp gives the offers after the first LF", "[relp]") {
  std::string data = "200 OK\n" + std::string(kLibrelpOffers);
  Result<RelpResponse> rsp = parse_relp_response(data);
  REQUIRE(rsp.is_ok());
  REQUIRE(rsp->code == 200);
  REQUIRE(rsp->text == "OK");
  REQUIRE(rsp->data == kLibrelpOffers);
}

TEST_CASE("an rsp code alone or followed by an LF has no text", "[relp]") {
  Result<RelpResponse> bare = parse_relp_response("200");
  REQUIRE(bare.is_ok());
  REQUIRE(bare->code == 200);
  REQUIRE(bare->text.empty());
  Result<RelpResponse> with_data = parse_relp_response("200\nrelp_version=0");
  REQUIRE(with_data.is_ok());
  REQUIRE(with_data->text.empty());
  REQUIRE(with_data->data == "relp_version=0");
}

TEST_CASE("an rsp without a 3-digit code is corruption", "[relp]") {
  auto data = GENERATE(as<std::string>{}, "", "OK", "20", "20 OK", "2x0 OK", "2000 OK", "200-OK");
  CAPTURE(data);
  Result<RelpResponse> rsp = parse_relp_response(data);
  REQUIRE(rsp.status().code() == StatusCode::kCorruption);
  REQUIRE_THAT(rsp.status().message(), Catch::Contains("RELP rsp"));
}

TEST_CASE("librelp's offers give its version software and commands", "[relp]") {
  Result<RelpOffers> offers = parse_relp_offers(kLibrelpOffers);
  REQUIRE(offers.is_ok());
  REQUIRE(offers->relp_version == 0);
  REQUIRE(offers->software == "librelp,1.2.7,http://librelp.adiscon.com");
  REQUIRE(offers->commands == std::vector<std::string>{"syslog"});
}

TEST_CASE("offers ignore unknown names empty lines and empty values", "[relp]") {
  Result<RelpOffers> offers =
      parse_relp_offers("commands=syslog,,eventlog\nfuture_feature=a,b\nflag\n\nrelp_version=1\n");
  REQUIRE(offers.is_ok());
  REQUIRE(offers->relp_version == 1);
  REQUIRE(offers->software.empty());
  REQUIRE(offers->commands == std::vector<std::string>{"syslog", "eventlog"});
}

TEST_CASE("offers from a server that enabled no command list none", "[relp]") {
  Result<RelpOffers> offers = parse_relp_offers("relp_version=0\ncommands=");
  REQUIRE(offers.is_ok());
  REQUIRE(offers->commands.empty());
}

TEST_CASE("offers without one numeric relp_version are corruption", "[relp]") {
  auto data = GENERATE(as<std::string>{}, "", "commands=syslog", "relp_version=", "relp_version=x",
                       "relp_version=0,1", "relp_version=1234567890");
  CAPTURE(data);
  Result<RelpOffers> offers = parse_relp_offers(data);
  REQUIRE(offers.status().code() == StatusCode::kCorruption);
  REQUIRE_THAT(offers.status().message(), Catch::Contains("relp_version"));
}

TEST_CASE("offers beyond librelp's name value and count limits are corruption", "[relp]") {
  std::string many_values = "relp_version=0\ncommands=";
  for (int i = 0; i < 65; ++i) {
    many_values += "c,";
  }
  auto [data, message] = GENERATE_COPY(
      std::pair<std::string, std::string>{"relp_version=0\n=syslog", "is empty"},
      std::pair<std::string, std::string>{"relp_version=0\n" + std::string(33, 'n') + "=1",
                                          "longer than 32 bytes"},
      std::pair<std::string, std::string>{"relp_version=0\nx=" + std::string(256, 'v'),
                                          "value longer than 255 bytes"},
      std::pair<std::string, std::string>{many_values, "more than 64 values"});
  CAPTURE(data);
  Result<RelpOffers> offers = parse_relp_offers(data);
  REQUIRE(offers.status().code() == StatusCode::kCorruption);
  REQUIRE_THAT(offers.status().message(), Catch::Contains(message));
}

}  // namespace assas::transport
