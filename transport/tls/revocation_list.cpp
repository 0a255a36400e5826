#include "transport/tls/revocation_list.h"

#include <ctime>
#include <memory>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "transport/tls/tls_context.h"

namespace assas::transport {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

struct CertsFree {
  void operator()(STACK_OF(X509) * certs) const { sk_X509_pop_free(certs, X509_free); }
};
using CertsPtr = std::unique_ptr<STACK_OF(X509), CertsFree>;

Result<CertsPtr> read_certificates(const std::string& path) {
  ERR_clear_error();
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) {
    return openssl_status(StatusCode::kInvalidArgument, "CA file '" + path + "'");
  }
  CertsPtr certs(sk_X509_new_null());
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    sk_X509_push(certs.get(), cert);
  }
  ERR_clear_error();  // the end of the file reads as an error
  if (sk_X509_num(certs.get()) == 0) {
    return invalid_argument("CA file '" + path + "' holds no PEM certificate");
  }
  return certs;
}

int64_t epoch_seconds(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) {
    return 0;
  }
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace

Result<std::shared_ptr<const RevocationList>> RevocationList::load(const std::string& crl_path,
                                                                   const std::string& ca_path) {
  ASSAS_RETURN_IF_ERROR(check_tls_file(crl_path, "CRL", false));
  Result<CertsPtr> cas = read_certificates(ca_path);
  if (!cas.is_ok()) {
    return cas.status();
  }
  ERR_clear_error();
  BioPtr bio(BIO_new_file(crl_path.c_str(), "r"));
  if (!bio) {
    return openssl_status(StatusCode::kInvalidArgument, "CRL file '" + crl_path + "'");
  }
  std::shared_ptr<RevocationList> list(new RevocationList());
  while (X509_CRL* crl = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) {
    list->crls_.push_back(crl);
    size_t n = list->crls_.size();
    bool signed_by_ca = false;
    for (int i = 0; i < sk_X509_num(cas->get()) && !signed_by_ca; ++i) {
      X509* ca = sk_X509_value(cas->get(), i);
      signed_by_ca = X509_NAME_cmp(X509_get_subject_name(ca), X509_CRL_get_issuer(crl)) == 0 &&
                     X509_CRL_verify(crl, X509_get0_pubkey(ca)) == 1;
    }
    if (!signed_by_ca) {
      ERR_clear_error();
      return invalid_argument("CRL " + std::to_string(n) + " of '" + crl_path +
                              "' is not signed by a CA of '" + ca_path +
                              "'; publish the CRL of the CA that signs the agents' certificates");
    }
    int64_t next = epoch_seconds(X509_CRL_get0_nextUpdate(crl));
    if (next != 0 && (list->next_update_ == 0 || next < list->next_update_)) {
      list->next_update_ = next;
    }
  }
  unsigned long last = ERR_peek_last_error();
  ERR_clear_error();
  if (list->crls_.empty()) {
    return invalid_argument("CRL file '" + crl_path +
                            "' holds no PEM CRL (-----BEGIN X509 CRL-----); make one with "
                            "openssl ca -gencrl");
  }
  // The loop ends at the end of the file (no start line) or at a damaged CRL: only the former is
  // fine, as a list cut short could leave out a revoked agent.
  if (last != 0 && ERR_GET_REASON(last) != PEM_R_NO_START_LINE) {
    return invalid_argument("CRL file '" + crl_path + "': CRL " +
                            std::to_string(list->crls_.size() + 1) + " is damaged");
  }
  return std::shared_ptr<const RevocationList>(std::move(list));
}

RevocationList::~RevocationList() {
  for (X509_CRL* crl : crls_) {
    X509_CRL_free(crl);
  }
}

Result<X509_STORE*> RevocationList::make_store(const std::string& ca_path) const {
  ERR_clear_error();
  X509_STORE* store = X509_STORE_new();
  if (store == nullptr) {
    return openssl_status(StatusCode::kResourceExhausted, "cannot create a certificate store");
  }
  if (X509_STORE_load_file(store, ca_path.c_str()) != 1) {
    X509_STORE_free(store);
    return openssl_status(StatusCode::kInvalidArgument, "CA file '" + ca_path + "'");
  }
  for (X509_CRL* crl : crls_) {
    X509_STORE_add_crl(store, crl);  // takes its own reference
  }
  X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
  return store;
}

bool RevocationList::revokes(X509* cert) const {
  for (X509_CRL* crl : crls_) {
    X509_REVOKED* entry = nullptr;
    if (X509_NAME_cmp(X509_get_issuer_name(cert), X509_CRL_get_issuer(crl)) == 0 &&
        X509_CRL_get0_by_cert(crl, &entry, cert) == 1) {
      return true;
    }
  }
  return false;
}

size_t RevocationList::revoked_count() const {
  size_t n = 0;
  for (X509_CRL* crl : crls_) {
    STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl);
    n += revoked != nullptr ? static_cast<size_t>(sk_X509_REVOKED_num(revoked)) : 0;
  }
  return n;
}

}  // namespace assas::transport
