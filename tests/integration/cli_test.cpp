// The command line of both programs, run as real processes: --check on good and broken configs,
// --version.

#include <string>

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "tests/integration/deployment.h"
#include "tests/support/binaries.h"
#include "tests/support/process_guard.h"
#include "tests/support/temp_dir.h"

namespace assas::test {
namespace {

using namespace std::chrono_literals;

struct Run {
  int exit_code;
  std::string output;
};

Run run(const std::vector<std::string>& argv, const TempDir& dir) {
  ProcessGuard p;
  std::string log = dir.file("out.log");
  p.start(argv, {}, log);
  int code = p.wait_exit(20s);
  return Run{code, read_text_file(log)};
}

}  // namespace

TEST_CASE("assas-agent --check on a broken config prints file:line:column and exits non-zero",
          "[integration][cli]") {
  TempDir dir;
  std::string config = dir.file("agent.yaml");
  write_text_file(config,
                  "agent: { id: web-01, data_dir: " + dir.file("data") +
                      " }\n"
                      "collectors:\n"
                      "  - { type: file, name: nginx, paths: [\"/var/log/nginx/*.log\"] }\n"
                      "buffer:\n"
                      "  max_size: 2GiB\n"
                      "  when_ful: block\n"
                      "outputs:\n"
                      "  - { type: assas, endpoints: [\"127.0.0.1:6514\"],\n"
                      "      tls: { ca: /nonexistent/ca.pem, cert: /x.pem, key: /x.key } }\n");
  Run r = run({ASSAS_AGENT_BIN, "--check", "--config", config}, dir);
  REQUIRE(r.exit_code != 0);
  REQUIRE_THAT(r.output, Catch::Contains(config + ":6:3: buffer.when_ful: unknown key"));
}

TEST_CASE("assas-agent --check names a missing certificate file with its position",
          "[integration][cli]") {
  TempDir dir;
  std::string config = dir.file("agent.yaml");
  write_text_file(config, "agent: { id: web-01, data_dir: " + dir.file("data") +
                              " }\n"
                              "collectors:\n"
                              "  - { type: file, name: nginx, paths: [\"/var/log/nginx/*.log\"] }\n"
                              "outputs:\n"
                              "  - type: assas\n"
                              "    endpoints: [\"127.0.0.1:6514\"]\n"
                              "    tls:\n"
                              "      ca: /etc/assas-test-missing/ca.pem\n"
                              "      cert: /etc/assas-test-missing/agent.pem\n"
                              "      key: /etc/assas-test-missing/agent.key\n");
  Run r = run({ASSAS_AGENT_BIN, "--check", "--config", config}, dir);
  REQUIRE(r.exit_code != 0);
  REQUIRE_THAT(
      r.output,
      Catch::Contains(config + ":8:11: outputs[0].tls.ca: file '/etc/assas-test-missing/ca.pem' "
                               "not found"));
}

TEST_CASE("check mode accepts a valid config with real certificates and exits 0",
          "[integration][cli]") {
  Deployment deployment;
  std::string agent_config = deployment.write_agent_config();
  Run agent = run({ASSAS_AGENT_BIN, "--check", "--config", agent_config}, TempDir{});
  INFO(agent.output);
  REQUIRE(agent.exit_code == 0);
  REQUIRE_THAT(agent.output, Catch::Contains("config OK: " + agent_config));
  Run ingest =
      run({ASSAS_INGEST_BIN, "--check", "--config", deployment.ingest_config()}, TempDir{});
  INFO(ingest.output);
  REQUIRE(ingest.exit_code == 0);
  REQUIRE_THAT(ingest.output, Catch::Contains("config OK: " + deployment.ingest_config()));
}

TEST_CASE("check mode accepts several outputs with loadbalance and the when_full drop modes",
          "[integration][cli]") {
  Deployment d;
  d.set_outputs(
      "outputs:\n  - type: assas\n    name: soc-a\n    mode: loadbalance\n"
      "    endpoints: [\"127.0.0.1:6514\", \"127.0.0.1:6515\"]\n"
      "    failback_after: 30s\n" +
      d.output_tls_yaml() +
      "  - type: assas\n    name: soc-b\n    max_behind: 64MiB\n"
      "    endpoints: [\"127.0.0.1:6516\"]\n" +
      d.output_tls_yaml());
  std::string config = d.write_agent_config(
      "buffer: { when_full: drop_oldest }\nmetrics: { interval: 5s, file: " + d.root() +
      "/m.prom }\n");
  Run r = run({ASSAS_AGENT_BIN, "--check", "--config", config}, TempDir{});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
}

TEST_CASE("two outputs sharing an endpoint or a name are refused with the reason",
          "[integration][cli]") {
  Deployment d;
  auto entry = [&](const std::string& name, const std::string& port) {
    return "  - type: assas\n    name: " + name + "\n    endpoints: [\"127.0.0.1:" + port +
           "\"]\n" + d.output_tls_yaml();
  };
  d.set_outputs("outputs:\n" + entry("a", "6514") + entry("b", "6514"));
  std::string config = d.write_agent_config();
  Run shared = run({ASSAS_AGENT_BIN, "--check", "--config", config}, TempDir{});
  REQUIRE(shared.exit_code != 0);
  REQUIRE_THAT(shared.output, Catch::Contains("endpoint 127.0.0.1:6514 is also in output 'a'"));
  d.set_outputs("outputs:\n" + entry("a", "6514") + entry("a", "6515"));
  config = d.write_agent_config();
  Run named = run({ASSAS_AGENT_BIN, "--check", "--config", config}, TempDir{});
  REQUIRE(named.exit_code != 0);
  REQUIRE_THAT(named.output, Catch::Contains("two outputs are named 'a'"));
}

TEST_CASE("the shipped production configs are valid up to their certificate files",
          "[integration][cli]") {
  // Every key parses; the first thing missing on a test machine is the CA under /etc/assas.
  TempDir dir;
  std::string agent_config = std::string(ASSAS_SOURCE_DIR) + "/packaging/config/agent.yaml";
  Run agent = run({ASSAS_AGENT_BIN, "--check", "--config", agent_config}, dir);
  REQUIRE(agent.exit_code != 0);
  REQUIRE_THAT(agent.output,
               Catch::Contains(agent_config +
                               ":29:11: outputs[0].tls.ca: file '/etc/assas/ca.pem' not found"));
  std::string ingest_config = std::string(ASSAS_SOURCE_DIR) + "/packaging/config/ingest.yaml";
  Run ingest = run({ASSAS_INGEST_BIN, "--check", "--config", ingest_config}, dir);
  REQUIRE(ingest.exit_code != 0);
  REQUIRE_THAT(ingest.output, Catch::Contains(ingest_config +
                                              ":13:7: tls.ca: file '/etc/assas/ca.pem' not found"));
}

TEST_CASE("assas-ingest refuses a private key that others can read, saying how to fix it",
          "[integration][cli]") {
  Deployment deployment;
  std::string key = deployment.root() + "/pki/ingest.key";
  REQUIRE(::chmod(key.c_str(), 0644) == 0);
  TempDir dir;
  Run ingest = run({ASSAS_INGEST_BIN, "--check", "--config", deployment.ingest_config()}, dir);
  REQUIRE(ingest.exit_code != 0);
  REQUIRE_THAT(ingest.output,
               Catch::Contains(deployment.ingest_config() + ":7:8: tls.key: key file '" + key +
                               "' is readable by group or others; run: chmod 600 " + key));
}

TEST_CASE("assas-agent and assas-ingest print their version", "[integration][cli]") {
  TempDir dir;
  Run agent = run({ASSAS_AGENT_BIN, "--version"}, dir);
  REQUIRE(agent.exit_code == 0);
  REQUIRE_THAT(agent.output, Catch::Contains("assas-agent "));
  Run ingest = run({ASSAS_INGEST_BIN, "--version"}, dir);
  REQUIRE(ingest.exit_code == 0);
  REQUIRE_THAT(ingest.output, Catch::Contains("assas-ingest "));
}

}  // namespace assas::test
