#include "base/base64.h"

#include <catch2/catch.hpp>

namespace assas {

TEST_CASE("base64 round-trips every length and refuses non-canonical text", "[base64]") {
  std::string bytes;
  for (int n = 0; n < 40; ++n) {
    std::string text;
    append_base64(text, bytes);
    REQUIRE(text.size() == (bytes.size() + 2) / 3 * 4);
    std::string back;
    REQUIRE(decode_base64(text, back));
    REQUIRE(back == bytes);
    bytes.push_back(static_cast<char>(n * 53 + 200));
  }
  std::string out;
  REQUIRE(decode_base64("/wByYXc=", out));
  REQUIRE(out == std::string("\xff\0raw", 5));
  for (const char* bad :
       {"/wByYXc", "/wByY Xc=", "=wByYXc=", "/w==YXc=", "/x==", "/wB=", "ab=c", "a==="}) {
    std::string ignored;
    INFO(bad);
    REQUIRE_FALSE(decode_base64(bad, ignored));
  }
}

}  // namespace assas
