// The RFC 6587 framer: both framings, truncation with bounded memory, and the property that any
// split of the stream into reads gives the same messages. The random cases print their seed;
// ASSAS_TEST_SEED replays one.

#include "collectors/syslog/syslog_framer.h"

#include <algorithm>
#include <cstdlib>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace assas::collectors {
namespace {

using namespace std::string_literals;

// A small constant over max_message_bytes that buffered_bytes() may reach (the header says 10).
constexpr size_t kSlack = 10;

struct Out {
  std::string bytes;
  bool truncated = false;
  uint64_t original_size = 0;
  bool operator==(const Out&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Out& out) {
  return os << "{'" << out.bytes << "'" << (out.truncated ? " truncated" : "") << " of "
            << out.original_size << "}";
}

Out whole(std::string bytes) {
  uint64_t size = bytes.size();
  return Out{std::move(bytes), false, size};
}

Out cut(std::string bytes, uint64_t original_size) {
  return Out{std::move(bytes), true, original_size};
}

void drain(SyslogFramer& framer, std::vector<Out>& outs, size_t max) {
  SyslogFramer::Message message;
  while (framer.next(message)) {
    REQUIRE(message.bytes.size() <= max);
    outs.push_back(Out{std::string(message.bytes), message.truncated, message.original_size});
  }
  REQUIRE(framer.buffered_bytes() <= max + kSlack);
}

void finish(SyslogFramer& framer, std::vector<Out>& outs) {
  SyslogFramer::Message message;
  while (framer.finish(message)) {
    outs.push_back(Out{std::string(message.bytes), message.truncated, message.original_size});
  }
  REQUIRE(framer.buffered_bytes() == 0);
}

// Feeds stream in pieces of step bytes, draining after each, then finishes.
std::vector<Out> frame(std::string_view stream, size_t max, size_t step) {
  SyslogFramer framer(max);
  std::vector<Out> outs;
  for (size_t at = 0; at < stream.size(); at += step) {
    framer.feed(stream.substr(at, step));
    drain(framer, outs, std::max<size_t>(max, 1));
  }
  finish(framer, outs);
  return outs;
}

// The same for every step from 1 to the whole stream.
std::vector<Out> frame_all_ways(std::string_view stream, size_t max = 1024) {
  std::vector<Out> outs = frame(stream, max, stream.size() + 1);
  for (size_t step = 1; step <= stream.size(); ++step) {
    CAPTURE(step);
    REQUIRE(frame(stream, max, step) == outs);
  }
  return outs;
}

uint64_t test_seed() {
  const char* env = std::getenv("ASSAS_TEST_SEED");  // NOLINT(concurrency-mt-unsafe): no threads
  return env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device{}();
}

}  // namespace

TEST_CASE("newline framed messages end at LF with one CR dropped and empty lines skipped",
          "[syslog][framer]") {
  REQUIRE(frame_all_ways("a\nb\r\n\n\r\n\n\nc\r\r\n d \n\r\rx\nlast") ==
          std::vector<Out>{whole("a"), whole("b"), whole("c\r"), whole(" d "), whole("\r\rx"),
                           whole("last")});
}

TEST_CASE("octet counted messages may hold LFs and need no separator", "[syslog][framer]") {
  REQUIRE(frame_all_ways("5 a\nb\nc11 hello\nworld1 \n") ==
          std::vector<Out>{whole("a\nb\nc"), whole("hello\nworld"), whole("\n")});
}

TEST_CASE("the framing is chosen again for every message", "[syslog][framer]") {
  REQUIRE(frame_all_ways("3 abcdef\n12 hello world!x\n<13>msg\n2 ab") ==
          std::vector<Out>{whole("abc"), whole("def"), whole("hello world!"), whole("x"),
                           whole("<13>msg"), whole("ab")});
}

TEST_CASE("a digit run that is too long or not followed by SP is the start of a line",
          "[syslog][framer]") {
  REQUIRE(frame_all_ways("12345678901 a\n0 x\n12x\n12\n7\t1\n05 abcde\n-1 a\n") ==
          std::vector<Out>{whole("12345678901 a"), whole("0 x"), whole("12x"), whole("12"),
                           whole("7\t1"), whole("05 abcde"), whole("-1 a")});
}

TEST_CASE("a ten digit MSG-LEN is octet counting", "[syslog][framer]") {
  SyslogFramer framer(8);
  framer.feed("9999999999 abcdefghij");
  SyslogFramer::Message message;
  REQUIRE(framer.next(message));
  REQUIRE(message.bytes == "abcdefgh");
  REQUIRE(message.truncated);
  REQUIRE(message.original_size == 9999999999u);
  REQUIRE_FALSE(framer.next(message));
  REQUIRE(framer.octet_counted() == 1);
}

TEST_CASE("a too long frame delivers its head at once and discards the rest", "[syslog][framer]") {
  std::string stream = "25 " + std::string(25, 'x') + "5 hello6 abcdef7 abcdefg";
  REQUIRE(frame_all_ways(stream, 6) ==
          std::vector<Out>{cut("xxxxxx", 25), whole("hello"), whole("abcdef"), cut("abcdef", 7)});
}

TEST_CASE("a 4 GB frame is discarded without being buffered", "[syslog][framer][slow]") {
  constexpr size_t kMax = size_t{64} * 1024;
  constexpr uint64_t kFrame = 4'000'000'000;
  SyslogFramer framer(kMax);
  std::vector<Out> outs;
  framer.feed("4000000000 ");
  const std::string chunk(size_t{1} << 20, 'z');
  std::string_view chunk_view = chunk;
  uint64_t left = kFrame;
  while (left > 0) {
    size_t n = left < chunk.size() ? static_cast<size_t>(left) : chunk.size();
    framer.feed(chunk_view.substr(0, n));
    left -= n;
    drain(framer, outs, kMax);
  }
  framer.feed("5 hello");
  drain(framer, outs, kMax);
  REQUIRE(outs == std::vector<Out>{cut(std::string(kMax, 'z'), kFrame), whole("hello")});
  REQUIRE(framer.octet_counted() == 2);
}

TEST_CASE("an endless line delivers its head once the limit is passed and keeps discarding",
          "[syslog][framer][slow]") {
  constexpr size_t kMax = 100;
  SyslogFramer framer(kMax);
  std::vector<Out> outs;
  std::string chunk(size_t{64} * 1024, 'y');
  framer.feed(chunk);
  drain(framer, outs, kMax);
  REQUIRE(outs == std::vector<Out>{cut(std::string(kMax, 'y'), 0)});
  for (int k = 0; k < 256; ++k) {  // 16 MiB more
    framer.feed(chunk);
    drain(framer, outs, kMax);
    REQUIRE(framer.buffered_bytes() == 0);
  }
  framer.feed("\nnext\n");
  drain(framer, outs, kMax);
  REQUIRE(outs == std::vector<Out>{cut(std::string(kMax, 'y'), 0), whole("next")});
  REQUIRE(framer.newline_framed() == 2);
}

TEST_CASE("a line is too long only past the limit and a CR before its LF does not count",
          "[syslog][framer]") {
  REQUIRE(frame_all_ways("abcde\r\nabcde\nabcdef\nabcde\rX\nabcdefghijk\r\nab\n", 5) ==
          std::vector<Out>{whole("abcde"), whole("abcde"), cut("abcde", 0), cut("abcde", 0),
                           cut("abcde", 0), whole("ab")});
}

TEST_CASE("a frame of exactly the limit is whole and one byte more is truncated",
          "[syslog][framer]") {
  REQUIRE(frame_all_ways("5 abcde6 abcdef", 5) ==
          std::vector<Out>{whole("abcde"), cut("abcde", 6)});
}

TEST_CASE("a limit of one byte still frames", "[syslog][framer]") {
  REQUIRE(frame_all_ways("ab\nc\n1 d2 ef12x\n", 1) ==
          std::vector<Out>{cut("a", 0), whole("c"), whole("d"), cut("e", 2), cut("1", 0)});
  REQUIRE(frame_all_ways("x", 0) == std::vector<Out>{whole("x")});  // 0 is taken as 1
}

TEST_CASE("finish delivers the unterminated rest", "[syslog][framer]") {
  REQUIRE(frame_all_ways("abc") == std::vector<Out>{whole("abc")});
  REQUIRE(frame_all_ways("abc\r") == std::vector<Out>{whole("abc\r")});
  REQUIRE(frame_all_ways("x\n12") == std::vector<Out>{whole("x"), whole("12")});
  REQUIRE(frame_all_ways("10 abc") == std::vector<Out>{cut("abc", 10)});
  REQUIRE(frame_all_ways("10 ").empty());
  REQUIRE(frame_all_ways("\n\r\n").empty());
  REQUIRE(frame_all_ways("abcdefgh", 4) == std::vector<Out>{cut("abcd", 0)});
  REQUIRE(frame("", 10, 1).empty());
}

TEST_CASE("finish returns what next would have first and the framer can go on after it",
          "[syslog][framer]") {
  SyslogFramer framer(100);
  framer.feed("a\nb\nc");
  std::vector<Out> outs;
  finish(framer, outs);
  REQUIRE(outs == std::vector<Out>{whole("a"), whole("b"), whole("c")});
  SyslogFramer::Message message;
  REQUIRE_FALSE(framer.finish(message));
  framer.feed("3 xyz");
  REQUIRE(framer.next(message));
  REQUIRE(message.bytes == "xyz");
}

TEST_CASE("the counters count messages by framing", "[syslog][framer]") {
  SyslogFramer framer(4);
  framer.feed("\n\na\n3 abc7 abcdefgh\nlong line\npartial");
  std::vector<Out> outs;
  drain(framer, outs, 4);
  finish(framer, outs);
  REQUIRE(outs.size() == 6);
  REQUIRE(framer.octet_counted() == 2);
  REQUIRE(framer.newline_framed() == 4);
}

TEST_CASE("messages fed without draining stay valid until next returns them", "[syslog][framer]") {
  SyslogFramer framer(16);
  std::vector<Out> outs;
  framer.feed("one\ntw");
  framer.feed("o\n3 thr");
  framer.feed("ee\nfour\n");
  SyslogFramer::Message message;
  REQUIRE(framer.next(message));
  REQUIRE(message.bytes == "one");  // read before the next call, as the contract says
  framer.feed("five\n");            // compacts nothing that is still to be returned
  drain(framer, outs, 16);
  REQUIRE(outs ==
          std::vector<Out>{whole("two"), whole("thr"), whole("ee"), whole("four"), whole("five")});
}

TEST_CASE("a long line fed one byte at a time keeps memory bounded", "[syslog][framer]") {
  constexpr size_t kMax = 1000;
  SyslogFramer framer(kMax);
  std::vector<Out> outs;
  for (int round = 0; round < 3; ++round) {
    for (size_t k = 0; k < 5000; ++k) {
      framer.feed("q");
      drain(framer, outs, kMax);
      REQUIRE(framer.buffered_bytes() <= kMax + 1);
    }
    framer.feed("\n");
    drain(framer, outs, kMax);
  }
  REQUIRE(outs.size() == 3);
  REQUIRE(outs[2] == cut(std::string(kMax, 'q'), 0));
}

TEST_CASE("many small messages in one read come out in order", "[syslog][framer]") {
  std::string stream;
  for (int k = 0; k < 100000; ++k) {
    stream +=
        k % 2 == 0 ? "m" + std::to_string(k) + "\n" : "6 o" + std::to_string(10000 + k % 90000);
  }
  SyslogFramer framer(64);
  framer.feed(stream);
  SyslogFramer::Message message;
  int count = 0;
  while (framer.next(message)) {
    REQUIRE(message.bytes.size() == (count % 2 == 0 ? std::to_string(count).size() + 1 : 6));
    ++count;
  }
  REQUIRE(count == 100000);
}

TEST_CASE("any split of a random stream gives the messages it was made of", "[syslog][framer]") {
  uint64_t seed = test_seed();
  INFO("seed " << seed << " (replay with ASSAS_TEST_SEED=" << seed << ")");
  std::mt19937_64 rng(seed);
  auto pick = [&](size_t lo, size_t hi) {
    return std::uniform_int_distribution<size_t>(lo, hi)(rng);
  };
  const std::string text = "abc <>[]=\"\\:-0123456789\t\0\xff"s;
  const std::string first = "abc<>[-\t\xff"s;  // no digit 1-9: a line must not look like MSG-LEN
  for (int round = 0; round < 300; ++round) {
    size_t max = pick(1, 40);
    std::string stream;
    std::vector<Out> expected;
    for (size_t n = pick(0, 30); n > 0; --n) {
      if (pick(0, 3) == 0) {
        stream += pick(0, 1) == 0 ? "\n" : "\r\n";  // empty lines
      }
      if (pick(0, 1) == 0) {
        std::string body;
        for (size_t k = pick(1, 60); k > 0; --k) {
          body.push_back(pick(0, 5) == 0 ? "\n\r"[pick(0, 1)] : text[pick(0, text.size() - 1)]);
        }
        stream += std::to_string(body.size()) + " " + body;
        expected.push_back(body.size() > max ? cut(body.substr(0, max), body.size()) : whole(body));
      } else {
        std::string line(1, first[pick(0, first.size() - 1)]);
        for (size_t k = pick(0, 60); k > 0; --k) {
          line.push_back(text[pick(0, text.size() - 1)]);
        }
        stream += line + (pick(0, 1) == 0 ? "\n" : "\r\n");
        expected.push_back(line.size() > max ? cut(line.substr(0, max), 0) : whole(line));
      }
    }
    CAPTURE(round, max, stream);
    std::vector<Out> outs;
    SyslogFramer framer(max);
    std::string_view stream_view = stream;
    for (size_t at = 0; at < stream.size();) {
      size_t step = pick(0, 3) == 0 ? 1 : pick(1, 50);
      framer.feed(stream_view.substr(at, step));
      at += step;
      drain(framer, outs, max);
    }
    finish(framer, outs);
    REQUIRE(outs == expected);
  }
}

TEST_CASE("garbage in any split gives the same messages within the bounds", "[syslog][framer]") {
  uint64_t seed = test_seed();
  INFO("seed " << seed << " (replay with ASSAS_TEST_SEED=" << seed << ")");
  std::mt19937_64 rng(seed);
  auto pick = [&](size_t lo, size_t hi) {
    return std::uniform_int_distribution<size_t>(lo, hi)(rng);
  };
  const std::string alphabet = "0123456789  \n\n\rab\0"s;
  for (int round = 0; round < 500; ++round) {
    size_t max = pick(1, 50);
    std::string stream;
    for (size_t k = pick(0, 400); k > 0; --k) {
      stream.push_back(pick(0, 4) == 0 ? static_cast<char>(pick(0, 255))
                                       : alphabet[pick(0, alphabet.size() - 1)]);
    }
    CAPTURE(round, max, stream);
    std::vector<Out> in_one = frame(stream, max, stream.size() + 1);
    std::vector<Out> outs;
    SyslogFramer framer(max);
    std::string_view stream_view = stream;
    for (size_t at = 0; at < stream.size();) {
      size_t step = pick(1, 20);
      framer.feed(stream_view.substr(at, step));
      at += step;
      drain(framer, outs, max);
    }
    finish(framer, outs);
    REQUIRE(outs == in_one);
    REQUIRE(framer.octet_counted() + framer.newline_framed() == outs.size());
  }
}

}  // namespace assas::collectors
