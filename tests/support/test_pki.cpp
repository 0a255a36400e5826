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

void make_test_cert(const TestPki& pki, const std::string& name, const CertSpec& spec) {
  // The script's leaf(), with the spec's usage, names, issuer and clock.
  std::string san = spec.subject_alt_name.empty() ? "DNS:" + name : spec.subject_alt_name;
  std::string ext = "basicConstraints=CA:FALSE\\nkeyUsage=critical,digitalSignature\\n";
  if (!spec.extended_key_usage.empty()) {
    ext += "extendedKeyUsage=" + spec.extended_key_usage + "\\n";
  }
  ext += "subjectAltName=" + san + "\\n";
  std::string clock;
  if (!spec.issued_at.empty()) {
    if (std::string(ASSAS_LIBFAKETIME).empty()) {
      throw std::runtime_error("a certificate issued at another time needs libfaketime");
    }
    clock =
        std::string("LD_PRELOAD='") + ASSAS_LIBFAKETIME + "' FAKETIME='" + spec.issued_at + "' ";
  }
  std::string sign = spec.self_signed ? "-signkey '" + name + ".key'"
                                      : std::string("-CA ca.pem -CAkey ca.key -CAcreateserial");
  std::string command = "cd '" + pki.dir + "' && umask 077 && " +
                        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout '" +
                        name + ".key' -out '" + name + ".csr' -subj '/CN=" + name +
                        "' 2>/dev/null && printf '" + ext + "' > '" + name + ".ext' && " + clock +
                        "openssl x509 -req -in '" + name + ".csr' " + sign + " -days 2 -extfile '" +
                        name + ".ext' -out '" + name + ".pem' 2>/dev/null && rm -f '" + name +
                        ".csr' '" + name + ".ext'";
  if (std::system(command.c_str()) != 0) {  // NOLINT(concurrency-mt-unsafe): one test thread
    throw std::runtime_error("making a test certificate failed: " + command);
  }
}

std::string make_test_crl(const TestPki& pki, const std::vector<std::string>& names) {
  // A fresh database for `openssl ca` each time, so that the list is exactly names.
  std::string command = "cd '" + pki.dir +
                        "' && umask 022 && rm -rf crl-db && mkdir crl-db && touch crl-db/index "
                        "&& echo 01 > crl-db/number && printf '"
                        "[ca]\\ndefault_ca=test\\n[test]\\ndatabase=crl-db/index\\n"
                        "crlnumber=crl-db/number\\ndefault_md=sha256\\ndefault_crl_days=1\\n"
                        "certificate=ca.pem\\nprivate_key=ca.key\\n' > crl-db/ca.cnf";
  for (const std::string& name : names) {
    command += " && openssl ca -config crl-db/ca.cnf -revoke '" + name + ".pem' 2>/dev/null";
  }
  command +=
      " && openssl ca -config crl-db/ca.cnf -gencrl -out crl.pem.new 2>/dev/null"
      " && mv crl.pem.new crl.pem";
  if (std::system(command.c_str()) != 0) {  // NOLINT(concurrency-mt-unsafe): one test thread
    throw std::runtime_error("making a test CRL failed: " + command);
  }
  return pki.dir + "/crl.pem";
}

}  // namespace assas::test
