#include "ingest/verify/cert_store.h"

#include <cstdio>

#include <sys/stat.h>

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <unistd.h>

#include "transport/tls/chain_signer.h"

namespace assas::ingest {
namespace {

// A certificate file is a few KiB; anything far larger is not one of ours.
constexpr off_t kMaxCertBytes = 1 << 20;

std::string openssl_error() {
  unsigned long code = ERR_get_error();  // NOLINT(google-runtime-int): OpenSSL's type
  ERR_clear_error();
  if (code == 0) {
    return "no OpenSSL error";
  }
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

}  // namespace

Result<std::unique_ptr<TrustedCa>> TrustedCa::load(const std::string& path) {
  X509_STORE* store = X509_STORE_new();
  if (store == nullptr) {
    return internal_error("cannot make a certificate store (out of memory)");
  }
  ERR_clear_error();
  if (X509_STORE_load_file(store, path.c_str()) != 1) {
    X509_STORE_free(store);
    return invalid_argument("cannot read the CA file '" + path + "': " + openssl_error());
  }
  // Evidence outlives certificates: the chain is checked, not the dates.
  X509_STORE_set_flags(store, X509_V_FLAG_NO_CHECK_TIME);
  return std::unique_ptr<TrustedCa>(new TrustedCa(store));
}

TrustedCa::~TrustedCa() {
  X509_STORE_free(store_);
}

CertStore::~CertStore() {
  for (auto& [fingerprint, cert] : certs_) {
    EVP_PKEY_free(cert.key);
  }
}

const CertStore::Cert& CertStore::get(const std::string& fingerprint) {
  auto it = certs_.find(fingerprint);
  if (it == certs_.end()) {
    it = certs_.emplace(fingerprint, load(fingerprint)).first;
  }
  return it->second;
}

CertStore::Cert CertStore::load(const std::string& fingerprint) const {
  Cert out;
  const std::string name = "certs/" + fingerprint + ".pem";
  // O_NONBLOCK and a regular file only: nothing planted under a stored name can hang verify.
  int fd = ::open((dir_ + "/" + fingerprint + ".pem").c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    out.unusable = name + " is missing";
    return out;
  }
  struct stat st {};
  std::FILE* file = nullptr;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > kMaxCertBytes ||
      (file = ::fdopen(fd, "r")) == nullptr) {
    ::close(fd);
    out.unusable = name + " is not a certificate file";
    return out;
  }
  ERR_clear_error();
  X509* cert = PEM_read_X509(file, nullptr, nullptr, nullptr);
  std::fclose(file);  // closes fd
  if (cert == nullptr) {
    out.unusable = name + " is not a PEM certificate";
    ERR_clear_error();
    return out;
  }
  if (transport::certificate_fingerprint(cert) != fingerprint) {
    out.unusable = name + " holds another certificate (its SHA-256 is not its name)";
  } else {
    out.key = X509_get_pubkey(cert);  // our own reference
    if (out.key == nullptr) {
      out.unusable = name + " has no usable public key: " + openssl_error();
    }
  }
  if (out.key != nullptr && ca_ != nullptr) {
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    if (ctx == nullptr || X509_STORE_CTX_init(ctx, ca_->store(), cert, nullptr) != 1) {
      out.untrusted = name + " could not be checked: " + openssl_error();
    } else if (X509_verify_cert(ctx) != 1) {
      out.untrusted = name + " does not verify against the CA: " +
                      X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
    }
    X509_STORE_CTX_free(ctx);
    ERR_clear_error();
  }
  X509_free(cert);
  return out;
}

}  // namespace assas::ingest
