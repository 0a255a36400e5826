#include "transport/client/backoff.h"

#include <random>
#include <set>

#include <catch2/catch.hpp>

#include "transport/endpoint.h"

namespace assas::transport {

using std::chrono::milliseconds;

TEST_CASE("backoff grows exponentially within its cap, never below its floor", "[backoff]") {
  std::mt19937_64 rng(42);
  Backoff b(milliseconds(100), milliseconds(2000), [&] { return rng(); });
  int64_t caps[] = {100, 200, 400, 800, 1600, 2000, 2000, 2000};
  for (int64_t cap : caps) {
    milliseconds d = b.next();
    REQUIRE(d.count() >= 100);
    REQUIRE(d.count() <= cap);
  }
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(b.next().count() <= 2000);  // no overflow after a long outage
  }
  b.reset();
  REQUIRE(b.next().count() == 100);
}

TEST_CASE("backoff delays are spread out by jitter", "[backoff]") {
  std::mt19937_64 rng(7);
  std::set<int64_t> seen;
  for (int i = 0; i < 20; ++i) {
    Backoff b(milliseconds(100), milliseconds(30000), [&] { return rng(); });
    for (int k = 0; k < 6; ++k) {
      (void)b.next();
    }
    seen.insert(b.next().count());
  }
  REQUIRE(seen.size() > 15);
}

TEST_CASE("endpoints parse as host:port or [v6]:port and bad ones say the forms", "[endpoint]") {
  REQUIRE(parse_endpoint("soc1.example.ma:6514")->host == "soc1.example.ma");
  REQUIRE(parse_endpoint("[::1]:6514")->host == "::1");
  REQUIRE(parse_endpoint("[::1]:6514")->to_string() == "[::1]:6514");
  REQUIRE_FALSE(parse_endpoint("soc1.example.ma").is_ok());
  REQUIRE_FALSE(parse_endpoint("host:0").is_ok());
  REQUIRE(parse_endpoint("host:0", true).is_ok());
  REQUIRE_FALSE(parse_endpoint("host:70000").is_ok());
  REQUIRE(parse_endpoint("::1:6514").status().message() ==
          "'::1:6514' is not an endpoint; write host:port or [ipv6]:port, e.g. "
          "soc1.example.ma:6514");
}

}  // namespace assas::transport
