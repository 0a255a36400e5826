#include "base/units.h"

#include <catch2/catch.hpp>

namespace assas {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("sizes take binary and decimal units", "[units]") {
  REQUIRE(*parse_size("64MiB") == 64ULL << 20);
  REQUIRE(*parse_size("2GiB") == 2ULL << 30);
  REQUIRE(*parse_size("1KB") == 1000);
  REQUIRE(*parse_size("4096") == 4096);
  REQUIRE(*parse_size("10 MiB") == 10ULL << 20);
}

TEST_CASE("a bad size says what would be valid", "[units]") {
  Result<uint64_t> r = parse_size("64 mega");
  REQUIRE_FALSE(r.is_ok());
  REQUIRE(r.status().message() ==
          "'64 mega' is not a size; write a whole number with an optional unit: B, KiB, MiB, "
          "GiB, TiB, KB, MB, GB or TB (e.g. 64MiB)");
  REQUIRE_FALSE(parse_size("99999999999TiB").is_ok());
}

TEST_CASE("durations need a unit", "[units]") {
  REQUIRE(*parse_duration("200ms") == milliseconds(200));
  REQUIRE(*parse_duration("5s") == seconds(5));
  REQUIRE(*parse_duration("2m") == seconds(120));
  REQUIRE_FALSE(parse_duration("5").is_ok());
  REQUIRE_FALSE(parse_duration("-5s").is_ok());
}

}  // namespace assas
