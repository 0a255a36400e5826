#include <string>

#include <catch2/catch.hpp>

#include "agent/config/agent_config.h"
#include "tests/support/temp_dir.h"

namespace assas::agent {
namespace {

using namespace std::chrono_literals;

Result<AgentConfig> load_with_metrics(const std::string& metrics_yaml) {
  test::TempDir dir;
  test::write_text_file(dir.file("agent.yaml"),
                        "collectors:\n"
                        "  - type: file\n"
                        "    paths: [/var/log/x.log]\n"
                        "outputs:\n"
                        "  - type: assas\n"
                        "    endpoints: [\"127.0.0.1:6514\"]\n"
                        "    tls: { ca: /etc/ca.pem, cert: /etc/a.pem, key: /etc/a.key }\n" +
                            metrics_yaml);
  return load_agent_config(dir.file("agent.yaml"));
}

}  // namespace

TEST_CASE("the metrics endpoint is off unless metrics.listen is set", "[config][metrics]") {
  Result<AgentConfig> none = load_with_metrics("");
  REQUIRE(none.is_ok());
  CHECK_FALSE(none->metrics.server.enabled);
  Result<AgentConfig> file_only = load_with_metrics("metrics: { file: /tmp/m.prom }\n");
  REQUIRE(file_only.is_ok());
  CHECK_FALSE(file_only->metrics.server.enabled);
  CHECK(file_only->metrics.server.output_down_after == 60s);
}

TEST_CASE("metrics.listen takes an IPv4 or IPv6 address or true for the default",
          "[config][metrics]") {
  Result<AgentConfig> v4 = load_with_metrics("metrics: { listen: \"127.0.0.1:9100\" }\n");
  REQUIRE(v4.is_ok());
  CHECK(v4->metrics.server.enabled);
  CHECK(v4->metrics.server.listen.to_string() == "127.0.0.1:9100");
  Result<AgentConfig> v6 = load_with_metrics("metrics: { listen: \"[::1]:9464\" }\n");
  REQUIRE(v6.is_ok());
  CHECK(v6->metrics.server.listen.host == "::1");
  CHECK(v6->metrics.server.listen.port == 9464);
  Result<AgentConfig> on = load_with_metrics("metrics: { listen: true }\n");
  REQUIRE(on.is_ok());
  CHECK(on->metrics.server.enabled);
  CHECK(on->metrics.server.listen.to_string() == "127.0.0.1:9464");
  Result<AgentConfig> health =
      load_with_metrics("metrics: { listen: true, health: { output_down_after: 5s } }\n");
  REQUIRE(health.is_ok());
  CHECK(health->metrics.server.output_down_after == 5s);
}

TEST_CASE("a metrics.listen that is not an IP address and port is refused with its key",
          "[config][metrics]") {
  for (const char* bad :
       {"metrics: { listen: \"localhost:9464\" }\n", "metrics: { listen: \"127.0.0.1\" }\n",
        "metrics: { listen: \"127.0.0.1:70000\" }\n",
        "metrics: { health: { down_after: 5s } }\n"}) {
    INFO(bad);
    Result<AgentConfig> config = load_with_metrics(bad);
    REQUIRE_FALSE(config.is_ok());
    INFO(config.status().to_string());
    CHECK(config.status().message().find("metrics.") != std::string::npos);
  }
}

}  // namespace assas::agent
