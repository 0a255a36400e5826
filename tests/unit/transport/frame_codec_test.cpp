#include "transport/protocol/frame_codec.h"

#include <catch2/catch.hpp>

namespace assas::transport {
namespace {

Frame round_trip(const Frame& in) {
  std::string wire;
  encode_frame(in, wire);
  FrameDecoder decoder(1 << 20);
  decoder.feed(wire);
  Result<std::optional<Frame>> out = decoder.next();
  REQUIRE(out.is_ok());
  REQUIRE(out->has_value());
  REQUIRE(decoder.buffered_bytes() == 0);
  return **out;
}

}  // namespace

TEST_CASE("every frame type round-trips through the codec", "[frame_codec]") {
  auto hello = std::get<HelloFrame>(round_trip(HelloFrame{1, "web-01", "web-01.local", 42}));
  REQUIRE(hello.agent_id == "web-01");
  REQUIRE(hello.host == "web-01.local");
  REQUIRE(hello.stream_id == 42);
  auto ok = std::get<HelloOkFrame>(round_trip(HelloOkFrame{1, 7, 16, 1 << 25, 1 << 24}));
  REQUIRE(ok.stored_upto == 7);
  REQUIRE(ok.window_batches == 16);
  auto ack = std::get<AckFrame>(round_trip(AckFrame{99, 8, 1000}));
  REQUIRE(ack.stored_upto == 99);
  REQUIRE(std::get<PingFrame>(round_trip(PingFrame{5})).nonce == 5);
  REQUIRE(std::get<PongFrame>(round_trip(PongFrame{6})).nonce == 6);
  auto err = std::get<ErrorFrame>(round_trip(ErrorFrame{7, "certificate revoked"}));
  REQUIRE(err.message == "certificate revoked");
}

TEST_CASE("a batch frame written as header plus payload decodes like one written whole",
          "[frame_codec]") {
  std::string payload("\x28\xb5\x2f\xfd binary \0 payload", 22);
  BatchFrame batch;
  batch.seq = 12;
  batch.event_count = 3;
  batch.raw_size = 400;
  batch.chain_flags = BatchChain::kChained | BatchChain::kAgentLost;
  batch.prev_seq = 9;
  batch.prev_link[0] = 0xab;
  batch.prev_link[31] = 0xcd;
  batch.signature = "a signature";
  batch.payload = payload;
  std::string whole;
  encode_frame(batch, whole);
  std::string split;
  encode_batch_frame_header(batch, split);
  split += payload;
  REQUIRE(whole == split);
  FrameDecoder decoder(1 << 20);
  decoder.feed(split);
  auto frame = decoder.next();
  auto b = std::get<BatchFrame>(**frame);
  REQUIRE(b.seq == 12);
  REQUIRE(b.event_count == 3);
  REQUIRE(b.raw_size == 400);
  REQUIRE(b.chain_flags == (BatchChain::kChained | BatchChain::kAgentLost));
  REQUIRE(b.prev_seq == 9);
  REQUIRE(b.prev_link == batch.prev_link);
  REQUIRE(b.signature == "a signature");
  REQUIRE(b.payload == payload);
}

TEST_CASE("frames fed one byte at a time come out whole and in order", "[frame_codec]") {
  std::string wire;
  for (uint64_t i = 0; i < 10; ++i) {
    encode_frame(PingFrame{i}, wire);
  }
  FrameDecoder decoder(64);
  uint64_t expected = 0;
  for (char c : wire) {
    decoder.feed(std::string_view(&c, 1));
    for (;;) {
      auto frame = decoder.next();
      REQUIRE(frame.is_ok());
      if (!frame->has_value()) {
        break;
      }
      REQUIRE(std::get<PingFrame>(**frame).nonce == expected++);
    }
  }
  REQUIRE(expected == 10);
}

TEST_CASE("a frame longer than the limit is refused from its length alone", "[frame_codec]") {
  FrameDecoder decoder(1024);
  decoder.feed(std::string("\xff\xff\xff\xff", 4));  // claims 4 GiB
  auto frame = decoder.next();
  REQUIRE(frame.status().code() == StatusCode::kResourceExhausted);
  REQUIRE(decoder.buffered_bytes() == 4);
}

TEST_CASE("garbage, unknown types and malformed bodies are refused", "[frame_codec]") {
  FrameDecoder unknown(1024);
  unknown.feed(std::string("\x05\x00\x00\x00\x63xxxx", 9));
  REQUIRE(unknown.next().status().code() == StatusCode::kCorruption);

  FrameDecoder zero(1024);
  zero.feed(std::string("\x00\x00\x00\x00", 4));
  REQUIRE(zero.next().status().code() == StatusCode::kCorruption);

  std::string ack;
  encode_frame(AckFrame{1, 2, 3}, ack);
  ack[0] = static_cast<char>(ack[0] - 1);  // one byte short of its fields
  ack.pop_back();
  FrameDecoder short_ack(1024);
  short_ack.feed(ack);
  REQUIRE(short_ack.next().status().code() == StatusCode::kCorruption);

  std::string hello;
  encode_frame(HelloFrame{1, "a", "b", 1}, hello);
  hello[0] = static_cast<char>(hello[0] + 1);
  hello.push_back('x');  // trailing byte
  FrameDecoder trailing(1024);
  trailing.feed(hello);
  REQUIRE(trailing.next().status().code() == StatusCode::kCorruption);
}

TEST_CASE("every truncation of a frame stream either waits for more or decodes a prefix",
          "[frame_codec]") {
  std::string wire;
  encode_frame(HelloFrame{1, "agent", "host", 9}, wire);
  BatchFrame batch;
  batch.seq = 1;
  batch.event_count = 1;
  batch.raw_size = 10;
  batch.codec = Codec::kNone;
  batch.payload = "0123456789";
  encode_frame(batch, wire);
  encode_frame(AckFrame{1, 1, 1}, wire);
  for (size_t cut = 0; cut <= wire.size(); ++cut) {
    FrameDecoder decoder(1024);
    decoder.feed(std::string_view(wire).substr(0, cut));
    int frames = 0;
    for (;;) {
      auto frame = decoder.next();
      REQUIRE(frame.is_ok());
      if (!frame->has_value()) {
        break;
      }
      ++frames;
    }
    REQUIRE(frames <= 3);
  }
}

}  // namespace assas::transport
