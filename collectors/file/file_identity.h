#pragma once

// Telling files apart. A file is followed by device and inode, but inodes are reused as soon as a
// file is deleted, so a checkpoint also records a fingerprint of the file's first bytes: a file
// with the right inode whose first bytes differ is a new file, read from its start. The same
// fingerprint finds the copy that `copytruncate` rotation leaves beside a truncated file.
//
// Also: which files are compressed (rotated `*.gz`, `*.zst`, ...) and must never be read as text.
// Pure functions; no I/O.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace assas::collectors {

// How many leading bytes identify a file. A file shorter than this is fingerprinted on what it
// has, and the fingerprint grows with the file.
inline constexpr size_t kFingerprintBytes = 1024;

struct Fingerprint {
  uint32_t length = 0;  // bytes covered, at most kFingerprintBytes
  uint64_t hash = 0;    // of those bytes
  bool operator==(const Fingerprint&) const = default;
};

// The fingerprint of a file whose first bytes are first_bytes (what a read at offset 0 of up to
// kFingerprintBytes returned).
Fingerprint fingerprint_of(std::string_view first_bytes);
// Whether a file whose first bytes are first_bytes starts like the file fingerprinted as saved:
// it must be at least as long, and its first saved.length bytes must hash the same.
bool starts_like(const Fingerprint& saved, std::string_view first_bytes);

// The checkpoint token of a file position: "fp1:<length>:<hash, 16 hex digits>".
std::string fingerprint_token(const Fingerprint& fingerprint);
// nullopt for a token that is not one (e.g. written by an older version): no check is made then.
std::optional<Fingerprint> parse_fingerprint_token(std::string_view token);

// Compressed by name (.gz .zst .bz2 .xz .lz4 .zip .7z, .tgz) or by the magic number of its first
// bytes (gzip, zstd, bzip2, xz, lz4, zip).
bool looks_compressed(std::string_view path, std::string_view first_bytes);

}  // namespace assas::collectors
