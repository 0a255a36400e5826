#pragma once

// When configured certificates expire, for assas_tls_certificate_expiry_seconds: read once at
// start (a blocking file read, like loading the TLS context itself), so that rendering the metric
// later touches no file.

#include <cstdint>
#include <string>

#include "base/status.h"

namespace assas::transport {

// A certificate file something is configured with: role "ca" (a bundle of trusted CAs) or "cert"
// (this end's certificate chain).
struct CertificateFile {
  std::string role;
  std::string path;
};

// The soonest notAfter (seconds since the Unix epoch) of the certificates in a PEM file: for a
// bundle or a chain, the first one to expire is the one that breaks the connection. Fails if the
// file cannot be read or holds no certificate.
Result<int64_t> soonest_not_after(const std::string& pem_path);

}  // namespace assas::transport
