#include "transport/tls/chain_signer.h"

#include <cstdio>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "transport/tls/tls_context.h"

namespace assas::transport {
namespace {

// Ed25519 and Ed448 sign the message itself; every other key type signs its SHA-256.
const EVP_MD* digest_for(EVP_PKEY* key) {
  int id = EVP_PKEY_get_base_id(key);
  return (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448) ? nullptr : EVP_sha256();
}

}  // namespace

Result<std::unique_ptr<ChainSigner>> ChainSigner::from_key_file(const std::string& path) {
  ASSAS_RETURN_IF_ERROR(check_tls_file(path, "signing key", true));
  FILE* file = std::fopen(path.c_str(), "re");
  if (file == nullptr) {
    return posix_status("open signing key '" + path + "'", errno);
  }
  EVP_PKEY* key = PEM_read_PrivateKey(file, nullptr, nullptr, nullptr);
  std::fclose(file);
  if (key == nullptr) {
    return openssl_status(
        StatusCode::kInvalidArgument,
        "signing key '" + path + "' is not a PEM private key without a passphrase");
  }
  return std::unique_ptr<ChainSigner>(new ChainSigner(key));
}

ChainSigner::~ChainSigner() {
  EVP_PKEY_free(key_);
}

Result<std::string> ChainSigner::sign(uint64_t seq, const Digest& link) const {
  std::string message = checkpoint_message(seq, link);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  size_t size = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(message.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, digest_for(key_), nullptr, key_) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &size, data, message.size()) != 1) {
    return openssl_status(StatusCode::kInternal, "cannot sign a chain checkpoint");
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size, data,
                     message.size()) != 1) {
    return openssl_status(StatusCode::kInternal, "cannot sign a chain checkpoint");
  }
  signature.resize(size);
  return signature;
}

bool verify_checkpoint(EVP_PKEY* key, uint64_t seq, const Digest& link,
                       std::string_view signature) {
  if (key == nullptr || signature.empty()) {
    return false;
  }
  std::string message = checkpoint_message(seq, link);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  bool ok =
      ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, digest_for(key), nullptr, key) == 1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) == 1;
  ERR_clear_error();
  return ok;
}

std::string certificate_fingerprint(X509* cert) {
  Digest digest{};
  unsigned int size = 0;
  if (X509_digest(cert, EVP_sha256(), digest.data(), &size) != 1 || size != kDigestBytes) {
    return {};
  }
  return to_hex(digest);
}

}  // namespace assas::transport
