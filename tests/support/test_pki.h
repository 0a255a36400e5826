#pragma once

// Certificates made at test time by scripts/make-demo-pki.sh (openssl): a throwaway CA, a server
// certificate for localhost and 127.0.0.1, and a client certificate named after the agent; more
// client certificates from the same CA on demand, for tests with a second agent identity.

#include <string>

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

// One more client certificate from pki's CA, named name (CN and DNS subjectAltName, as the
// script's agent certificate), in <name>.pem and <name>.key (0600). Throws std::runtime_error if
// openssl fails.
void make_test_client_cert(const TestPki& pki, const std::string& name);

}  // namespace assas::test
