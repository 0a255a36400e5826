#include "base/http_request.h"

#include <string>

#include <catch2/catch.hpp>

namespace assas {

TEST_CASE("a complete request head gives its method and path without the query", "[http]") {
  std::string bytes = "GET /metrics?name[]=x HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n";
  HttpHeadParse p = parse_http_request_head(bytes);
  REQUIRE(p.state == HttpHeadState::kComplete);
  CHECK(p.head.method == "GET");
  CHECK(p.head.target == "/metrics?name[]=x");
  CHECK(p.head.path == "/metrics");
  CHECK(p.head.version == "HTTP/1.1");
  CHECK(p.head_bytes == bytes.size());
}

TEST_CASE("bare LF line ends are accepted as CRLF are", "[http]") {
  HttpHeadParse p = parse_http_request_head("HEAD /health HTTP/1.0\nUser-Agent: curl\n\n");
  REQUIRE(p.state == HttpHeadState::kComplete);
  CHECK(p.head.method == "HEAD");
  CHECK(p.head.path == "/health");
  CHECK(p.head.version == "HTTP/1.0");
}

TEST_CASE("a head without its empty line is incomplete at every prefix", "[http]") {
  std::string bytes = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  for (size_t n = 0; n < bytes.size(); ++n) {
    INFO("prefix " << n);
    CHECK(parse_http_request_head(bytes.substr(0, n)).state == HttpHeadState::kIncomplete);
  }
  CHECK(parse_http_request_head(bytes).state == HttpHeadState::kComplete);
}

TEST_CASE("a head over 8 KiB is too large whether or not it ends", "[http]") {
  std::string big = "GET / HTTP/1.1\r\nX-Pad: " + std::string(9000, 'a');
  CHECK(parse_http_request_head(big).state == HttpHeadState::kTooLarge);
  CHECK(parse_http_request_head(big + "\r\n\r\n").state == HttpHeadState::kTooLarge);
  std::string just_under = "GET / HTTP/1.1\r\nX-Pad: ";
  just_under += std::string(kMaxHttpRequestHeadBytes - just_under.size() - 4, 'a') + "\r\n\r\n";
  REQUIRE(just_under.size() == kMaxHttpRequestHeadBytes);
  CHECK(parse_http_request_head(just_under).state == HttpHeadState::kComplete);
}

TEST_CASE("malformed request lines and headers are refused", "[http]") {
  for (const char* bad : {
           "\r\n\r\n",                               // no request line
           "GET /metrics\r\n\r\n",                   // HTTP/0.9
           "GET  /metrics HTTP/1.1\r\n\r\n",         // two spaces
           "GET /metrics HTTP/2.0\r\n\r\n",          // another version
           "GET metrics HTTP/1.1\r\n\r\n",           // not origin form
           "GET http://x/metrics HTTP/1.1\r\n\r\n",  // absolute form: no proxy here
           "G(T /metrics HTTP/1.1\r\n\r\n",          // not a token
           "GET /metrics HTTP/1.1\r\nno colon\r\n\r\n",
           "GET /metrics HTTP/1.1\r\nName : value\r\n\r\n",  // space before the colon
           "GET /metrics HTTP/1.1\r\n folded\r\n\r\n",       // obsolete line folding
           "GET /met\x01rics HTTP/1.1\r\n\r\n",              // control byte
       }) {
    INFO(bad);
    CHECK(parse_http_request_head(bad).state == HttpHeadState::kMalformed);
  }
}

TEST_CASE("binary garbage is refused before the head limit or an end of line", "[http]") {
  std::string garbage("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);  // a TLS ClientHello
  CHECK(parse_http_request_head(garbage).state == HttpHeadState::kMalformed);
  std::string nul("GET /\0", 6);
  CHECK(parse_http_request_head(nul).state == HttpHeadState::kMalformed);
}

}  // namespace assas
