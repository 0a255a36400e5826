#include "transport/tls/certificate_expiry.h"

#include <algorithm>
#include <ctime>
#include <memory>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "transport/tls/tls_context.h"

namespace assas::transport {

Result<int64_t> soonest_not_after(const std::string& pem_path) {
  ERR_clear_error();
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(pem_path.c_str(), "r"), &BIO_free);
  if (bio == nullptr) {
    return openssl_status(StatusCode::kNotFound, "cannot open certificate file '" + pem_path + "'");
  }
  bool found = false;
  int64_t soonest = 0;
  while (true) {
    std::unique_ptr<X509, decltype(&X509_free)> cert(
        PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
    if (cert == nullptr) {
      break;  // the end of the file, or something that is not a certificate: stop there
    }
    std::tm tm{};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm) != 1) {
      return openssl_status(StatusCode::kInvalidArgument,
                            "unreadable notAfter in '" + pem_path + "'");
    }
    int64_t not_after = timegm(&tm);
    soonest = found ? std::min(soonest, not_after) : not_after;
    found = true;
  }
  ERR_clear_error();  // the read that ended the loop leaves a "no start line" error behind
  if (!found) {
    return invalid_argument("no PEM certificate in '" + pem_path + "'");
  }
  return soonest;
}

}  // namespace assas::transport
