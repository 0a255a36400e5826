#include "base/base64.h"

#include <array>
#include <cstdint>

namespace assas {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> make_values() {
  std::array<int8_t, 256> values{};
  for (auto& v : values) {
    v = -1;
  }
  for (int i = 0; i < 64; ++i) {
    values[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  }
  return values;
}
constexpr std::array<int8_t, 256> kValues = make_values();

}  // namespace

void append_base64(std::string& out, std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    char quad[4] = {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63],
                    kAlphabet[v & 63]};
    out.append(quad, 4);
  }
  if (n - i == 1) {
    uint32_t v = uint32_t{p[i]} << 16;
    char quad[4] = {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], '=', '='};
    out.append(quad, 4);
  } else if (n - i == 2) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    char quad[4] = {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
    out.append(quad, 4);
  }
}

bool decode_base64(std::string_view text, std::string& out) {
  if (text.size() % 4 != 0) {
    return false;
  }
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int pad = 0;
    if (last) {
      pad = (text[i + 3] == '=') + (text[i + 2] == '=' && text[i + 3] == '=');
    }
    uint32_t v = 0;
    for (int k = 0; k < 4 - pad; ++k) {
      int8_t d = kValues[static_cast<unsigned char>(text[i + static_cast<size_t>(k)])];
      if (d < 0) {
        return false;
      }
      v = (v << 6) | static_cast<uint32_t>(d);
    }
    v <<= 6 * pad;
    if ((pad == 1 && (v & 0xff) != 0) || (pad == 2 && (v & 0xffff) != 0)) {
      return false;  // bits past the data must be zero: one encoding per byte string
    }
    out.push_back(static_cast<char>(v >> 16));
    if (pad < 2) {
      out.push_back(static_cast<char>((v >> 8) & 0xff));
    }
    if (pad < 1) {
      out.push_back(static_cast<char>(v & 0xff));
    }
  }
  return true;
}

}  // namespace assas
