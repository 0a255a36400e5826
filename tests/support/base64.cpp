#include "tests/support/base64.h"

#include <cstdint>
#include <stdexcept>

namespace assas::test {

std::string base64_decode(std::string_view text) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    if (c == '=') {
      break;
    }
    size_t v = kAlphabet.find(c);
    if (v == std::string_view::npos) {
      throw std::runtime_error("not base64: " + std::string(text.substr(0, 40)));
    }
    bits = (bits << 6) | static_cast<uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xff);
    }
  }
  return out;
}

}  // namespace assas::test
