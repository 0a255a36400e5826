#include "ingest/agent_key.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "transport/tls/chain_signer.h"

namespace assas::ingest {
namespace {

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;

std::string openssl_error() {
  unsigned long code = ERR_get_error();  // NOLINT(google-runtime-int): OpenSSL's type
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return text;
}

}  // namespace

Result<std::shared_ptr<const AgentKey>> AgentKey::from_certificate(X509* cert) {
  if (cert == nullptr) {
    return invalid_argument("no certificate");
  }
  ERR_clear_error();
  std::string fingerprint = transport::certificate_fingerprint(cert);
  Bio bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (fingerprint.empty() || !bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return internal_error("cannot encode the agent's certificate: " + openssl_error());
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);  // NOLINT(google-runtime-int): OpenSSL's type
  std::string pem(data, static_cast<size_t>(size));
  EVP_PKEY* key = X509_get_pubkey(cert);  // a new reference, freed by ~AgentKey
  if (key == nullptr) {
    return invalid_argument("cannot read the public key of the agent's certificate: " +
                            openssl_error());
  }
  return std::shared_ptr<const AgentKey>(new AgentKey(key, std::move(fingerprint), std::move(pem)));
}

Result<std::shared_ptr<const AgentKey>> AgentKey::from_pem(std::string_view pem) {
  if (pem.size() > (1U << 20)) {
    return invalid_argument("a PEM certificate larger than 1 MiB");
  }
  ERR_clear_error();
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr, &X509_free);
  if (!cert) {
    return invalid_argument("not a PEM certificate: " + openssl_error());
  }
  return from_certificate(cert.get());
}

AgentKey::~AgentKey() {
  EVP_PKEY_free(key_);
}

}  // namespace assas::ingest
