#pragma once

// Standard base64 (RFC 4648, section 4, with padding): how assas-ingest writes bytes that are not
// UTF-8 and how chain files hold signatures.

#include <string>
#include <string_view>

namespace assas {

void append_base64(std::string& out, std::string_view bytes);

// Strict: only the alphabet, a length that is a multiple of 4, padding only at the end and unused
// bits zero, so that every byte string has exactly one encoding. Appends to out; false on anything
// else (out then holds a prefix).
bool decode_base64(std::string_view text, std::string& out);

}  // namespace assas
