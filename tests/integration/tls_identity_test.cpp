// Agent identity at assas-ingest with the real processes: a certificate the SOC revokes (a CRL
// file in the receiver's config) is refused at the handshake and its open connection closed, a new
// list takes effect without restarting the receiver, a list that cannot be loaded changes nothing,
// and what the agent read meanwhile waits in its buffer and arrives once, when it is let back in.

#include <chrono>
#include <string>

#include <catch2/catch.hpp>

#include "tests/integration/deployment.h"
#include "tests/integration/log_writer.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "tests/support/wait_for.h"

namespace assas::test {
namespace {

using namespace std::chrono_literals;

size_t count_in(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

TEST_CASE("a revoked agent is refused and cut off by a CRL reloaded without a restart",
          "[integration][tls]") {
  Deployment d("gw-crl");
  std::string crl = make_test_crl(d.pki(), {});
  d.set_ingest_tls("  crl: " + crl + "\n  crl_check_interval: 200ms\n");
  d.start_ingest();
  d.set_outputs("outputs:\n  - type: assas\n    name: soc\n    endpoints: [\"" + d.endpoint() +
                "\"]\n    backoff: { min: 100ms, max: 300ms }\n" + d.output_tls_yaml());
  d.start_agent();
  LogWriter writer(d.logs_dir() + "/app.log", "crl");
  writer.write(1000);
  REQUIRE(d.wait_for_events(1000, 30s));
  pid_t ingest_pid = d.ingest().pid();

  // Revoked: the open connection is closed, and every new one refused at the handshake.
  make_test_crl(d.pki(), {"agent"});
  REQUIRE(wait_for(
      [&] {
        return d.ingest_log().find(
                   "closing the connection of an agent whose certificate was revoked") !=
               std::string::npos;
      },
      20s));
  writer.write(1000);
  REQUIRE(wait_for([&] { return count_in(d.agent_log(), "certificate revoked") >= 2; }, 20s));
  CHECK(d.received().size() == 1000);

  // A list that cannot be loaded leaves the revocation in force.
  write_text_file(crl + ".tmp", "-----BEGIN X509 CRL-----\ngarbage\n-----END X509 CRL-----\n");
  REQUIRE(std::rename((crl + ".tmp").c_str(), crl.c_str()) == 0);
  REQUIRE(wait_for(
      [&] {
        return d.ingest_log().find(
                   "cannot load the new revocation list; the previous one stays "
                   "in force") != std::string::npos;
      },
      20s));
  size_t refusals = count_in(d.agent_log(), "certificate revoked");
  REQUIRE(wait_for([&] { return count_in(d.agent_log(), "certificate revoked") > refusals; }, 20s));
  CHECK(d.received().size() == 1000);

  // Let back in: what waited in the agent's buffer arrives, once, from the same receiver process.
  make_test_crl(d.pki(), {});
  require_exactly_once(d, writer.ids(), 60s);
  CHECK(d.ingest().pid() == ingest_pid);
  CHECK(d.ingest().is_running());
}

}  // namespace
}  // namespace assas::test
