#pragma once

// Certificates made at test time by scripts/make-demo-pki.sh (openssl): a throwaway CA, a server
// certificate for localhost and 127.0.0.1, and a client certificate named after the agent; more
// client certificates from the same CA on demand, for tests with a second agent identity.

#include <string>
#include <vector>

namespace assas::test {

struct TestPki {
  std::string dir;
  std::string ca() const { return dir + "/ca.pem"; }
  std::string server_cert() const { return dir + "/ingest.pem"; }
  std::string server_key() const { return dir + "/ingest.key"; }
  std::string client_cert() const { return dir + "/agent.pem"; }
  std::string client_key() const { return dir + "/agent.key"; }
  // Those of make_test_client_cert(name).
  std::string client_cert(const std::string& name) const { return dir + "/" + name + ".pem"; }
  std::string client_key(const std::string& name) const { return dir + "/" + name + ".key"; }
};

// Makes the files in dir (created); throws std::runtime_error if openssl fails.
TestPki make_test_pki(const std::string& dir, const std::string& agent_id);

// What a certificate made by make_test_cert is like; the defaults make one as the script's agent
// certificate.
struct CertSpec {
  std::string extended_key_usage = "clientAuth";  // serverAuth, or "" for no such extension
  std::string subject_alt_name;                   // "" : DNS:<name>
  // Issued as if the clock said this, in libfaketime's FAKETIME syntax: "@2020-01-01 00:00:00"
  // for a certificate long expired, "+30d" for one not valid yet. "": now.
  std::string issued_at;
  bool self_signed = false;  // signed by its own key, not by pki's CA
};

// One more certificate, signed by pki's CA unless self_signed, named name (CN), valid for two days
// from issued_at, in <name>.pem and <name>.key (0600). Throws std::runtime_error if openssl (or
// libfaketime, for issued_at) fails.
void make_test_cert(const TestPki& pki, const std::string& name, const CertSpec& spec = {});

// Writes <dir>/crl.pem, a CRL from pki's CA (valid for a day; `openssl ca -gencrl`) that revokes
// the certificates of names (made by make_test_cert or the script: "agent"), and returns its
// path. Each call replaces the list: a name left out is no longer revoked. Throws
// std::runtime_error if openssl fails.
std::string make_test_crl(const TestPki& pki, const std::vector<std::string>& names);

// make_test_cert with the defaults: a client certificate for agent id name.
inline void make_test_client_cert(const TestPki& pki, const std::string& name) {
  make_test_cert(pki, name);
}

}  // namespace assas::test
