#include "base/bytes.h"

#include <catch2/catch.hpp>

namespace assas {

TEST_CASE("fixed and varint encodings round-trip", "[bytes]") {
  std::string out;
  put_u8(out, 0xab);
  put_u16(out, 0xbeef);
  put_u32(out, 0xdeadbeefU);
  put_u64(out, 0x0123456789abcdefULL);
  put_varint(out, 300);
  put_varint(out, UINT64_MAX);
  put_bytes(out, "payload");
  ByteReader r(out);
  uint8_t a = 0;
  uint16_t b = 0;
  uint32_t c = 0;
  uint64_t d = 0;
  uint64_t e = 0;
  uint64_t f = 0;
  std::string_view g;
  REQUIRE(r.get_u8(a));
  REQUIRE(r.get_u16(b));
  REQUIRE(r.get_u32(c));
  REQUIRE(r.get_u64(d));
  REQUIRE(r.get_varint(e));
  REQUIRE(r.get_varint(f));
  REQUIRE(r.get_bytes(g));
  REQUIRE(r.at_end());
  REQUIRE(a == 0xab);
  REQUIRE(b == 0xbeef);
  REQUIRE(c == 0xdeadbeefU);
  REQUIRE(d == 0x0123456789abcdefULL);
  REQUIRE(e == 300);
  REQUIRE(f == UINT64_MAX);
  REQUIRE(g == "payload");
}

TEST_CASE("a reader never reads past its input and stays failed", "[bytes]") {
  std::string out;
  put_varint(out, 1000);  // claims 1000 bytes follow
  out += "short";
  ByteReader r(out);
  std::string_view v;
  REQUIRE_FALSE(r.get_bytes(v));
  REQUIRE_FALSE(r.ok());
  uint8_t x = 0;
  REQUIRE_FALSE(r.get_u8(x));
}

TEST_CASE("a length over the caller's bound is refused", "[bytes]") {
  std::string out;
  put_bytes(out, std::string(100, 'x'));
  ByteReader r(out);
  std::string_view v;
  REQUIRE_FALSE(r.get_bytes(v, 99));
}

TEST_CASE("an endless varint is refused", "[bytes]") {
  std::string out(20, '\xff');
  ByteReader r(out);
  uint64_t v = 0;
  REQUIRE_FALSE(r.get_varint(v));
}

}  // namespace assas

TEST_CASE("decimal numbers parse strictly: digits only, no overflow", "[bytes]") {
  uint64_t v = 0;
  REQUIRE(assas::parse_decimal_u64("0", v));
  REQUIRE(v == 0);
  REQUIRE(assas::parse_decimal_u64("18446744073709551615", v));
  REQUIRE(v == UINT64_MAX);
  for (const char* bad : {"", "18446744073709551616", "-1", "+1", " 1", "1 ", "12a", "0x10"}) {
    INFO("text: '" << bad << "'");
    REQUIRE_FALSE(assas::parse_decimal_u64(bad, v));
  }
}
