#include "base/crc32c.h"

#include <string>

#include <catch2/catch.hpp>

namespace assas {

TEST_CASE("crc32c matches the RFC 3720 check values", "[crc32c]") {
  REQUIRE(crc32c::value("123456789") == 0xe3069283U);
  REQUIRE(crc32c::value(std::string(32, '\0')) == 0x8a9136aaU);
  REQUIRE(crc32c::value(std::string(32, '\xff')) == 0x62a8ab43U);
}

TEST_CASE("crc32c extends across split input", "[crc32c]") {
  std::string data = "hello, this is a line of a log file that spans many words\n";
  for (size_t cut = 0; cut <= data.size(); ++cut) {
    uint32_t first = crc32c::extend(0, data.data(), cut);
    REQUIRE(crc32c::extend(first, data.data() + cut, data.size() - cut) == crc32c::value(data));
  }
}

TEST_CASE("crc32c mask round-trips and changes the value", "[crc32c]") {
  uint32_t crc = crc32c::value("foo");
  REQUIRE(crc32c::mask(crc) != crc);
  REQUIRE(crc32c::unmask(crc32c::mask(crc)) == crc);
}

}  // namespace assas
