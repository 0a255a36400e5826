// Fingerprints (inode reuse, copytruncate copies) and the compressed-file check.

#include "collectors/file/file_identity.h"

#include <string>

#include <catch2/catch.hpp>

namespace assas::collectors {

TEST_CASE("a fingerprint covers the first KiB and grows with a young file", "[identity]") {
  std::string head(3000, 'a');
  head[10] = 'b';
  Fingerprint full = fingerprint_of(head);
  REQUIRE(full.length == kFingerprintBytes);
  REQUIRE(starts_like(full, head));
  REQUIRE(starts_like(full, head + "appended"));
  std::string other = head;
  other[500] = 'c';
  REQUIRE_FALSE(starts_like(full, other));                // another file under the same inode
  REQUIRE_FALSE(starts_like(full, head.substr(0, 100)));  // shorter than what was fingerprinted

  Fingerprint young = fingerprint_of("2026-11-29 start\n");
  REQUIRE(young.length == 17);
  REQUIRE(starts_like(young, "2026-11-29 start\nmore lines\n"));
  REQUIRE_FALSE(starts_like(young, "2026-11-30 start\n"));
  REQUIRE(starts_like(fingerprint_of(""), "anything"));  // an empty file is any file's start
}

TEST_CASE("a fingerprint survives the checkpoint token and bad tokens are refused", "[identity]") {
  Fingerprint f = fingerprint_of("some log line\n");
  std::string token = fingerprint_token(f);
  REQUIRE(token.rfind("fp1:14:", 0) == 0);
  REQUIRE(token.size() == 7 + 16);
  REQUIRE(parse_fingerprint_token(token) == f);
  Fingerprint zero{0, 0x1f};
  REQUIRE(fingerprint_token(zero) == "fp1:0:000000000000001f");
  for (const char* bad : {"", "fp1:", "fp1:14", "fp2:14:0123456789abcdef", "fp1:x:0123456789abcdef",
                          "fp1:14:0123456789abcde", "fp1:14:0123456789abcdefa",
                          "fp1:2000:0123456789abcdef", "fp1:14:0123456789abcdeg"}) {
    INFO(bad);
    REQUIRE_FALSE(parse_fingerprint_token(bad).has_value());
  }
}

TEST_CASE("compressed files are told by name and by magic number, text is not", "[identity]") {
  for (const char* name : {"/l/a.log.1.gz", "/l/a.log.2.zst", "/l/a.bz2", "/l/a.xz", "/l/a.lz4",
                           "/l/a.zip", "/l/a.tgz", "/l/a.7z"}) {
    INFO(name);
    REQUIRE(looks_compressed(name, "plain text"));
  }
  REQUIRE(looks_compressed("/l/a.log", std::string("\x1f\x8b\x08\x00", 4)));
  REQUIRE(looks_compressed("/l/a.log", std::string("\x28\xb5\x2f\xfd\x24", 5)));
  REQUIRE(looks_compressed("/l/a.log", std::string("\xfd"
                                                   "7zXZ\x00",
                                                   6)));
  REQUIRE(looks_compressed("/l/a.log", std::string("BZh91AY&SY", 10)));
  REQUIRE(looks_compressed("/l/a.log", std::string("PK\x03\x04", 4)));
  REQUIRE_FALSE(looks_compressed("/l/a.log", "BZh is how this line starts"));
  REQUIRE_FALSE(looks_compressed("/l/a.log.1", "Nov 29 sshd[1]: Accepted"));
  REQUIRE_FALSE(looks_compressed("/l/gz.log", ""));
}

}  // namespace assas::collectors
