#include "tests/support/test_pki.h"

#include <cstdlib>
#include <stdexcept>

namespace assas::test {

TestPki make_test_pki(const std::string& dir, const std::string& agent_id) {
  std::string command =
      std::string(ASSAS_SOURCE_DIR) + "/scripts/make-demo-pki.sh '" + dir + "' '" + agent_id + "'";
  if (std::system(command.c_str()) != 0) {  // NOLINT(concurrency-mt-unsafe): one test thread
    throw std::runtime_error("making test certificates failed: " + command);
  }
  return TestPki{dir};
}

void make_test_client_cert(const TestPki& pki, const std::string& name) {
  // The script's leaf(), for one more client certificate signed by the CA it left in dir.
  std::string command =
      "cd '" + pki.dir + "' && umask 077 && " +
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout '" + name +
      ".key' -out '" + name + ".csr' -subj '/CN=" + name + "' 2>/dev/null && " +
      "printf 'basicConstraints=CA:FALSE\\nkeyUsage=critical,digitalSignature\\n" +
      "extendedKeyUsage=clientAuth\\nsubjectAltName=DNS:" + name + "\\n' > '" + name +
      ".ext' && openssl x509 -req -in '" + name + ".csr' -CA ca.pem -CAkey ca.key " +
      "-CAcreateserial -days 2 -extfile '" + name + ".ext' -out '" + name +
      ".pem' 2>/dev/null && rm -f '" + name + ".csr' '" + name + ".ext'";
  if (std::system(command.c_str()) != 0) {  // NOLINT(concurrency-mt-unsafe): one test thread
    throw std::runtime_error("making a test client certificate failed: " + command);
  }
}

}  // namespace assas::test
