#pragma once

#include <string>
#include <string_view>

namespace assas::test {

// Standard padded base64 → bytes (base/base64.h); throws std::runtime_error on anything else. For
// reading what assas-ingest writes under "<key>_base64".
std::string base64_decode(std::string_view text);

}  // namespace assas::test
