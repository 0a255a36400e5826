#include "transport/protocol/chain.h"

#include <memory>
#include <string>

#include <catch2/catch.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "transport/tls/chain_signer.h"

namespace assas::transport {
namespace {

std::string one_event_batch(std::string_view message) {
  BatchEncoder encoder;
  std::vector<Field> stream_fields = {{"service", "sshd"}};
  uint32_t stream = encoder.add_stream("auth", "/var/log/auth.log", stream_fields);
  std::vector<FieldView> event_fields = {{"pid", "812"}};
  encoder.add_event(1764000000123456789, stream, 8812, message, event_fields);
  return encoder.finish("web-01");
}

}  // namespace

TEST_CASE("the canonical encoding of an event is the documented byte layout", "[chain]") {
  std::vector<FieldView> first = {{"k", "v"}};
  std::string out;
  append_canonical_event(out, CanonicalEventView{1, "h", "c", "s", 300, first, {}, "m"});
  std::string expected = std::string("\x01\0\0\0\0\0\0\0", 8)  // time_ns
                         + "\x01h" +
                         "\x01"
                         "c" +
                         "\x01s"                  // host, collector, source
                         + "\xac\x02"             // offset 300 as a varint
                         + "\x01" + "\x01k\x01v"  // one field
                         + "\x01m";               // message
  REQUIRE(out == expected);
}

TEST_CASE("a batch's content digest is SHA-256 over its events' canonical encodings", "[chain]") {
  std::string raw = one_event_batch("Failed password for root");
  std::vector<uint32_t> fingerprints;
  Result<BatchContent> content = hash_batch(raw, 10, &fingerprints);
  REQUIRE(content.is_ok());
  REQUIRE(content->events == 1);
  REQUIRE(fingerprints.size() == 1);

  std::vector<FieldView> stream_fields = {{"service", "sshd"}};
  std::vector<FieldView> event_fields = {{"pid", "812"}};
  std::string canonical;
  append_canonical_event(
      canonical, CanonicalEventView{1764000000123456789, "web-01", "auth", "/var/log/auth.log",
                                    8812, stream_fields, event_fields, "Failed password for root"});
  Digest expected{};
  unsigned int size = 0;
  REQUIRE(EVP_Digest(canonical.data(), canonical.size(), expected.data(), &size, EVP_sha256(),
                     nullptr) == 1);
  REQUIRE(content->content == expected);
  REQUIRE(fingerprints[0] == event_fingerprint(canonical));
}

TEST_CASE("one changed byte, seq or predecessor changes the link", "[chain]") {
  Digest zero{};
  auto a = hash_batch(one_event_batch("Failed password for root"), 10);
  auto b = hash_batch(one_event_batch("Failed password for rooT"), 10);
  REQUIRE(a.is_ok());
  REQUIRE(b.is_ok());
  Digest link = chain_link(5, 4, zero, 1, a->content);
  REQUIRE(link != chain_link(5, 4, zero, 1, b->content));
  REQUIRE(link != chain_link(6, 4, zero, 1, a->content));
  REQUIRE(link != chain_link(5, 3, zero, 1, a->content));
  Digest other = zero;
  other[31] = 1;
  REQUIRE(link != chain_link(5, 4, other, 1, a->content));
  REQUIRE(link == chain_link(5, 4, zero, 1, a->content));
}

TEST_CASE("digests round-trip through hex and bad hex is refused", "[chain]") {
  Digest d{};
  for (size_t i = 0; i < d.size(); ++i) {
    d[i] = static_cast<uint8_t>(i * 37);
  }
  Digest back{};
  REQUIRE(digest_from_hex(to_hex(d), back));
  REQUIRE(back == d);
  REQUIRE_FALSE(digest_from_hex("00", back));
  REQUIRE_FALSE(digest_from_hex(std::string(64, 'g'), back));
  REQUIRE_FALSE(digest_from_hex(std::string(64, 'A'), back));  // lowercase only
}

TEST_CASE("a checkpoint verifies with the signer's certificate and with no other key", "[chain]") {
  test::TempDir dir;
  test::TestPki pki = test::make_test_pki(dir.file("pki"), "web-01");
  Digest link{};
  link[0] = 7;
  auto signer = ChainSigner::from_key_file(pki.client_key());
  REQUIRE(signer.is_ok());
  Result<std::string> signature = (*signer)->sign(42, link);
  REQUIRE(signature.is_ok());

  auto public_key = [](const std::string& cert_path) {
    FILE* f = std::fopen(cert_path.c_str(), "re");
    REQUIRE(f != nullptr);
    X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    REQUIRE(cert != nullptr);
    EVP_PKEY* key = X509_get_pubkey(cert);
    X509_free(cert);
    return std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>(key, &EVP_PKEY_free);
  };
  auto agent = public_key(pki.client_cert());
  REQUIRE(verify_checkpoint(agent.get(), 42, link, *signature));
  REQUIRE_FALSE(verify_checkpoint(agent.get(), 43, link, *signature));
  Digest other = link;
  other[1] = 1;
  REQUIRE_FALSE(verify_checkpoint(agent.get(), 42, other, *signature));
  auto server = public_key(pki.server_cert());
  REQUIRE_FALSE(verify_checkpoint(server.get(), 42, link, *signature));
  REQUIRE_FALSE(verify_checkpoint(agent.get(), 42, link, ""));
}

}  // namespace assas::transport
