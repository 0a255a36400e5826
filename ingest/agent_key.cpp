#include "ingest/agent_key.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "transport/tls/chain_signer.h"
#include "transport/tls/tls_context.h"

namespace assas::ingest {
namespace {

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;

}  // namespace

Result<std::shared_ptr<const AgentKey>> AgentKey::from_certificate(X509* cert) {
  if (cert == nullptr) {
    return invalid_argument("no certificate");
  }
  ERR_clear_error();
  std::string fingerprint = transport::certificate_fingerprint(cert);
  Bio bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (fingerprint.empty() || !bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return transport::openssl_status(StatusCode::kInternal,
                                     "cannot encode the agent's certificate");
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);  // NOLINT(google-runtime-int): OpenSSL's type
  std::string pem(data, static_cast<size_t>(size));
  EVP_PKEY* key = X509_get_pubkey(cert);  // a new reference, freed by ~AgentKey
  if (key == nullptr) {
    return transport::openssl_status(StatusCode::kInvalidArgument,
                                     "cannot read the public key of the agent's certificate");
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
    return transport::openssl_status(StatusCode::kInvalidArgument, "not a PEM certificate");
  }
  return from_certificate(cert.get());
}

AgentKey::~AgentKey() {
  EVP_PKEY_free(key_);
}

}  // namespace assas::ingest
