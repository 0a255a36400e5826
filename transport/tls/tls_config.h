#pragma once

#include <string>

namespace assas::transport {

// Certificate and key files of one TLS endpoint, as configured.
struct TlsConfig {
  std::string ca;    // PEM bundle of the CA(s) that sign the peer's certificate
  std::string cert;  // PEM certificate (chain) of this end
  std::string key;   // PEM private key of this end; refused if readable by group or others
  // Client side only: the name to verify in the server's certificate (and send as SNI); defaults
  // to the endpoint's host.
  std::string server_name;
};

}  // namespace assas::transport
