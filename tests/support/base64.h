#pragma once

#include <string>
#include <string_view>

namespace assas::test {

// Standard base64 (with or without padding) → bytes; throws std::runtime_error on a character
// outside the alphabet. For reading what assas-ingest writes under "<key>_base64".
std::string base64_decode(std::string_view text);

}  // namespace assas::test
