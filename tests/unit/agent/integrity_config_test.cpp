// The integrity: section of agent.yaml (issue 10): parsing, defaults, the signing key's default
// and the errors that name it.

#include <string>

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "agent/config/agent_config.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace assas::agent {
namespace {

using namespace std::chrono_literals;

const char* const kCollectors =
    "collectors:\n"
    "  - type: file\n"
    "    paths: [/var/log/x.log]\n";

std::string assas_output(const std::string& key, const std::string& ca = "/etc/ca.pem",
                         const std::string& cert = "/etc/a.pem") {
  return "  - type: assas\n"
         "    endpoints: [\"127.0.0.1:6514\"]\n"
         "    tls: { ca: " +
         ca + ", cert: " + cert + ", key: " + key + " }\n";
}

// An assas output whose files exist: those of pki.
std::string real_assas_output(const assas::test::TestPki& pki) {
  return assas_output(pki.client_key(), pki.ca(), pki.client_cert());
}

const char* const kSyslogOutput =
    "  - type: syslog\n"
    "    name: siem\n"
    "    endpoints: [\"127.0.0.1:6515\"]\n"
    "    tls: { ca: /etc/ca.pem }\n";

Result<AgentConfig> load(const std::string& outputs, const std::string& integrity_yaml) {
  assas::test::TempDir dir;
  assas::test::write_text_file(dir.file("agent.yaml"),
                               std::string(kCollectors) + "outputs:\n" + outputs + integrity_yaml);
  return load_agent_config(dir.file("agent.yaml"));
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("without an integrity section the chain is on and signed with the assas output's key",
          "[config][integrity]") {
  Result<AgentConfig> config = load(std::string(kSyslogOutput) + assas_output("/etc/a.key"), "");
  REQUIRE(config.is_ok());
  const IntegrityConfig& integrity = config->integrity;
  CHECK(integrity.chain);
  CHECK(integrity.sign_every == 16);
  CHECK(integrity.sign_interval == 5s);
  CHECK(integrity.signing_key == "/etc/a.key");  // the first assas output, not the first output
  REQUIRE(integrity.signing_key_node.has_value());
  CHECK(integrity.signing_key_node->path() == "outputs[1].tls.key");
}

TEST_CASE("integrity keys are parsed within their ranges", "[config][integrity]") {
  Result<AgentConfig> config =
      load(assas_output("/etc/a.key"),
           "integrity: { chain: true, sign_every: 0, sign_interval: 250ms, "
           "signing_key: /etc/chain.key }\n");
  REQUIRE(config.is_ok());
  CHECK(config->integrity.sign_every == 0);
  CHECK(config->integrity.sign_interval == 250ms);
  CHECK(config->integrity.signing_key == "/etc/chain.key");  // over the output's key
  CHECK(config->integrity.signing_key_node->path() == "integrity.signing_key");
  Result<AgentConfig> off = load(assas_output("/etc/a.key"), "integrity: { chain: false }\n");
  REQUIRE(off.is_ok());
  CHECK_FALSE(off->integrity.chain);
}

TEST_CASE("bad integrity values and unknown keys are refused with the file line and key",
          "[config][integrity]") {
  for (const char* bad : {"integrity: { sign_every: 1000001 }\n", "integrity: { sign_every: -1 }\n",
                          "integrity: { sign_interval: 50ms }\n",
                          "integrity: { sign_interval: 2h }\n", "integrity: { sign_interval: 5 }\n",
                          "integrity: { chain: maybe }\n", "integrity: { signing_key: \"\" }\n",
                          "integrity: { sign_evry: 4 }\n", "integrity: [chain]\n"}) {
    INFO(bad);
    Result<AgentConfig> config = load(assas_output("/etc/a.key"), bad);
    REQUIRE_FALSE(config.is_ok());
    INFO(config.status().to_string());
    CHECK(contains(config.status().message(), "agent.yaml:"));
    CHECK(contains(config.status().message(), "integrity"));
  }
}

TEST_CASE("with no assas output and no signing_key the chain is not signed",
          "[config][integrity]") {
  Result<AgentConfig> config = load(kSyslogOutput, "");
  REQUIRE(config.is_ok());
  CHECK(config->integrity.signing_key.empty());
  Result<std::shared_ptr<const transport::ChainSigner>> signer =
      make_chain_signer(config->integrity);
  REQUIRE(signer.is_ok());
  CHECK(signer.value() == nullptr);
}

TEST_CASE("the signing key is loaded and a bad one is an error naming its config key",
          "[config][integrity]") {
  assas::test::TempDir dir;
  assas::test::TestPki pki = assas::test::make_test_pki(dir.file("pki"), "web-01");
  Result<AgentConfig> config = load(real_assas_output(pki), "");
  REQUIRE(config.is_ok());
  REQUIRE(validate_agent_config_files(*config).is_ok());
  Result<std::shared_ptr<const transport::ChainSigner>> signer =
      make_chain_signer(config->integrity);
  REQUIRE(signer.is_ok());
  REQUIRE(signer.value() != nullptr);
  // Chain off: no key is loaded, even a bad one.
  Result<AgentConfig> off =
      load(real_assas_output(pki), "integrity: { chain: false, signing_key: " + pki.ca() + " }\n");
  REQUIRE(off.is_ok());
  REQUIRE(make_chain_signer(off->integrity).is_ok());
  CHECK(make_chain_signer(off->integrity).value() == nullptr);

  // A file that is no private key (a certificate, made private so that only its content is wrong).
  std::string not_a_key = dir.file("cert-as-key.pem");
  assas::test::write_text_file(not_a_key, assas::test::read_text_file(pki.client_cert()));
  REQUIRE(::chmod(not_a_key.c_str(), 0600) == 0);
  Result<AgentConfig> bad =
      load(real_assas_output(pki), "integrity: { signing_key: " + not_a_key + " }\n");
  REQUIRE(bad.is_ok());
  REQUIRE(validate_agent_config_files(*bad).is_ok());
  Result<std::shared_ptr<const transport::ChainSigner>> refused = make_chain_signer(bad->integrity);
  REQUIRE_FALSE(refused.is_ok());
  INFO(refused.status().to_string());
  CHECK(contains(refused.status().message(), "agent.yaml:"));
  CHECK(contains(refused.status().message(), "integrity.signing_key"));
  CHECK(contains(refused.status().message(), not_a_key));

  // A key readable by others is refused by the file check, at its line, with the fix.
  REQUIRE(::chmod(not_a_key.c_str(), 0644) == 0);
  Status open_key = validate_agent_config_files(*bad);
  REQUIRE_FALSE(open_key.is_ok());
  CHECK(contains(open_key.message(), "integrity.signing_key"));
  CHECK(contains(open_key.message(), "chmod 600"));
}

}  // namespace assas::agent
