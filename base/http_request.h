#pragma once

// The head of an HTTP/1.x request, parsed from bytes that came from the network: a pure function,
// so that it can be tested (and fuzzed) without a socket. It reads the request line (method,
// target, version) and only finds the end of the headers, which the metrics endpoint has no use
// for. Lines may end in CRLF or a bare LF (RFC 9112 2.2 lets a server accept LF).
//
// Hostile input is bounded: a head longer than kMaxHttpRequestHeadBytes is refused however it
// arrives (431), and anything that is not a plain request line or header line is malformed (400).

#include <cstddef>
#include <string>
#include <string_view>

namespace assas {

inline constexpr size_t kMaxHttpRequestHeadBytes = 8192;

struct HttpRequestHead {
  std::string method;   // e.g. "GET"
  std::string target;   // as sent, e.g. "/metrics?x=1"
  std::string path;     // the target without its query: "/metrics"
  std::string version;  // "HTTP/1.0" or "HTTP/1.1"
};

enum class HttpHeadState {
  kIncomplete,  // no end of head yet; read more
  kComplete,
  kTooLarge,   // longer than kMaxHttpRequestHeadBytes: answer 431 and close
  kMalformed,  // answer 400 and close
};

struct HttpHeadParse {
  HttpHeadState state = HttpHeadState::kIncomplete;
  HttpRequestHead head;   // set when kComplete
  size_t head_bytes = 0;  // bytes of the head, its final empty line included (kComplete)
};

// bytes: everything received on the connection so far.
HttpHeadParse parse_http_request_head(std::string_view bytes);

}  // namespace assas
