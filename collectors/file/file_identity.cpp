#include "collectors/file/file_identity.h"

#include <array>
#include <charconv>

namespace assas::collectors {

namespace {

// FNV-1a, 64 bits: no cryptographic claim is needed, only that different log heads differ.
uint64_t hash_bytes(std::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

Fingerprint fingerprint_of(std::string_view first_bytes) {
  std::string_view covered = first_bytes.substr(0, kFingerprintBytes);
  return Fingerprint{static_cast<uint32_t>(covered.size()), hash_bytes(covered)};
}

bool starts_like(const Fingerprint& saved, std::string_view first_bytes) {
  return first_bytes.size() >= saved.length &&
         hash_bytes(first_bytes.substr(0, saved.length)) == saved.hash;
}

std::string fingerprint_token(const Fingerprint& fingerprint) {
  std::array<char, 16> hex{};
  auto [end, ec] = std::to_chars(hex.data(), hex.data() + hex.size(), fingerprint.hash, 16);
  std::string digits(hex.data(), end);
  return "fp1:" + std::to_string(fingerprint.length) + ":" + std::string(16 - digits.size(), '0') +
         digits;
}

std::optional<Fingerprint> parse_fingerprint_token(std::string_view token) {
  constexpr std::string_view kPrefix = "fp1:";
  if (token.substr(0, kPrefix.size()) != kPrefix) {
    return std::nullopt;
  }
  token.remove_prefix(kPrefix.size());
  size_t colon = token.find(':');
  if (colon == std::string_view::npos || token.size() - colon - 1 != 16) {
    return std::nullopt;
  }
  Fingerprint fingerprint;
  const char* first = token.data();
  auto length = std::from_chars(first, first + colon, fingerprint.length);
  auto hash = std::from_chars(first + colon + 1, first + token.size(), fingerprint.hash, 16);
  if (length.ec != std::errc() || length.ptr != first + colon || hash.ec != std::errc() ||
      hash.ptr != first + token.size() || fingerprint.length > kFingerprintBytes) {
    return std::nullopt;
  }
  return fingerprint;
}

bool looks_compressed(std::string_view path, std::string_view first_bytes) {
  for (std::string_view suffix : {".gz", ".tgz", ".zst", ".bz2", ".xz", ".lz4", ".zip", ".7z"}) {
    if (ends_with(path, suffix)) {
      return true;
    }
  }
  static constexpr std::string_view kMagics[] = {
      std::string_view("\x1f\x8b", 2),                  // gzip
      std::string_view("\x28\xb5\x2f\xfd", 4),          // zstd
      std::string_view("\xfd\x37\x7a\x58\x5a\x00", 6),  // xz
      std::string_view("\x04\x22\x4d\x18", 4),          // lz4
      std::string_view("PK\x03\x04", 4),                // zip
  };
  for (std::string_view magic : kMagics) {
    if (first_bytes.substr(0, magic.size()) == magic) {
      return true;
    }
  }
  // bzip2: "BZh", the block size digit, then the block magic (so a text line "BZh..." is text).
  return first_bytes.size() >= 10 && first_bytes.substr(0, 3) == "BZh" && first_bytes[3] >= '1' &&
         first_bytes[3] <= '9' && first_bytes.substr(4, 6) == "\x31\x41\x59\x26\x53\x59";
}

}  // namespace assas::collectors
