#include "base/status.h"

#include <catch2/catch.hpp>

namespace assas {

TEST_CASE("an OK status has no message and says OK", "[status]") {
  Status s;
  REQUIRE(s.is_ok());
  REQUIRE(s.message().empty());
  REQUIRE(s.to_string() == "OK");
}

TEST_CASE("with_context keeps the code and prefixes the message", "[status]") {
  Status s = io_error("disk gone").with_context("append segment");
  REQUIRE(s.code() == StatusCode::kIoError);
  REQUIRE(s.message() == "append segment: disk gone");
}

TEST_CASE("posix_status maps ENOSPC to ResourceExhausted", "[status]") {
  Status s = posix_status("write x", ENOSPC);
  REQUIRE(s.code() == StatusCode::kResourceExhausted);
  REQUIRE(s.message().find("No space left") != std::string::npos);
}

TEST_CASE("a Result holds a value or the reason there is none", "[status]") {
  Result<int> good = 7;
  REQUIRE(good.is_ok());
  REQUIRE(*good == 7);
  Result<int> bad = not_found("no such thing");
  REQUIRE_FALSE(bad.is_ok());
  REQUIRE(bad.status().code() == StatusCode::kNotFound);
}

}  // namespace assas
