#include "base/http_request.h"

#include <algorithm>

namespace assas {
namespace {

// RFC 9110 5.6.2 tchar: what a method (and a header name) may be made of.
bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Bytes no request line or header line may hold: controls other than HTAB, and DEL. A CR is
// allowed only right before the LF, which the caller has cut off already.
bool has_bad_byte(std::string_view line) {
  return std::any_of(line.begin(), line.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

bool parse_request_line(std::string_view line, HttpRequestHead& head) {
  size_t first = line.find(' ');
  size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
  if (second == std::string_view::npos || line.find(' ', second + 1) != std::string_view::npos) {
    return false;  // exactly three parts, one space apart
  }
  std::string_view method = line.substr(0, first);
  std::string_view target = line.substr(first + 1, second - first - 1);
  std::string_view version = line.substr(second + 1);
  if (method.empty() || !std::all_of(method.begin(), method.end(), is_token_char)) {
    return false;
  }
  // Origin form only ("/path?query"): this server is nobody's proxy.
  if (target.empty() || target.front() != '/' || target.find('\t') != std::string_view::npos ||
      std::any_of(target.begin(), target.end(),
                  [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
    return false;
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    return false;
  }
  head.method = method;
  head.target = target;
  head.path = target.substr(0, target.find('?'));
  head.version = version;
  return true;
}

bool is_header_line(std::string_view line) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return false;
  }
  // No whitespace before the colon, and no obsolete line folding (RFC 9112 5.1, 5.2).
  std::string_view name = line.substr(0, colon);
  return std::all_of(name.begin(), name.end(), is_token_char);
}

}  // namespace

HttpHeadParse parse_http_request_head(std::string_view bytes) {
  HttpHeadParse result;
  size_t start = 0;
  bool first_line = true;
  while (true) {
    size_t lf = bytes.find('\n', start);
    if (lf == std::string_view::npos) {
      // An unfinished line: refuse what can never become valid now rather than wait for the
      // limit or the timeout.
      std::string_view tail = bytes.substr(start);
      if (!tail.empty() && tail.back() == '\r') {
        tail.remove_suffix(1);
      }
      if (has_bad_byte(tail)) {
        result.state = HttpHeadState::kMalformed;
      } else if (bytes.size() >= kMaxHttpRequestHeadBytes) {
        result.state = HttpHeadState::kTooLarge;
      }
      return result;
    }
    if (lf + 1 > kMaxHttpRequestHeadBytes) {
      result.state = HttpHeadState::kTooLarge;
      return result;
    }
    std::string_view line = bytes.substr(start, lf - start);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    start = lf + 1;
    if (has_bad_byte(line)) {
      result.state = HttpHeadState::kMalformed;
      return result;
    }
    if (first_line) {
      first_line = false;
      if (!parse_request_line(line, result.head)) {
        result.state = HttpHeadState::kMalformed;
        return result;
      }
      continue;
    }
    if (line.empty()) {
      result.state = HttpHeadState::kComplete;
      result.head_bytes = start;
      return result;
    }
    if (!is_header_line(line)) {
      result.state = HttpHeadState::kMalformed;
      return result;
    }
  }
}

}  // namespace assas
