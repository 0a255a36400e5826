#include "tests/support/base64.h"

#include <stdexcept>

#include "base/base64.h"

namespace assas::test {

std::string base64_decode(std::string_view text) {
  std::string out;
  if (!decode_base64(text, out)) {
    throw std::runtime_error("not base64: " + std::string(text.substr(0, 40)));
  }
  return out;
}

}  // namespace assas::test
