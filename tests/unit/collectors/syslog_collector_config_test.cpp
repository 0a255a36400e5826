// The syslog collector's keys: defaults, and errors that name the key and the fix.

#include "collectors/syslog/syslog_collector_config.h"

#include <string>

#include <catch2/catch.hpp>

namespace assas::collectors {
namespace {

Result<SyslogCollectorConfig> parse(const std::string& yaml) {
  Result<ConfigNode> root = ConfigNode::load_string(yaml, "agent.yaml");
  REQUIRE(root.is_ok());
  return parse_syslog_collector_config(*root, "net");
}

std::string error_of(const std::string& yaml) {
  Result<SyslogCollectorConfig> config = parse(yaml);
  REQUIRE_FALSE(config.is_ok());
  return config.status().message();
}

}  // namespace

TEST_CASE("a syslog listener given alone takes the standard port", "[config][syslog]") {
  Result<SyslogCollectorConfig> config = parse("type: syslog\nudp:\ntcp: {}\n");
  REQUIRE(config.is_ok());
  REQUIRE(config->listeners.size() == 2);
  CHECK(config->listeners[0].transport == SyslogTransport::kUdp);
  CHECK(config->listeners[0].listen[0].to_string() == "0.0.0.0:514");
  CHECK(config->listeners[0].receive_buffer_bytes == 4ULL << 20);
  CHECK(config->listeners[1].transport == SyslogTransport::kTcp);
  CHECK(config->listeners[1].listen[0].to_string() == "0.0.0.0:514");
  CHECK(config->max_message_bytes == 64ULL << 10);
  CHECK(config->rate_per_second == 0);
  CHECK(config->allow.empty());
  CHECK(config->max_connections == 1024);
}

TEST_CASE("syslog collector options are read", "[config][syslog]") {
  Result<SyslogCollectorConfig> config = parse(
      "type: syslog\n"
      "udp: { listen: [\"127.0.0.1:5514\", \"[::1]:5514\"], receive_buffer: 8MiB }\n"
      "tls: { listen: [\"0.0.0.0:6514\"], cert: /c.pem, key: /k.pem, ca: /ca.pem,\n"
      "       require_client_cert: true }\n"
      "allow: [\"10.0.0.0/8\", \"2001:db8::/32\"]\n"
      "max_message_size: 8KiB\n"
      "rate_limit: { messages_per_second: 500, burst: 2000 }\n"
      "max_connections: 50\n"
      "handshake_timeout: 3s\n"
      "udp_queue: 1MiB\n"
      "fields: { site: rabat }\n");
  REQUIRE(config.is_ok());
  REQUIRE(config->listeners.size() == 2);
  CHECK(config->listeners[0].listen.size() == 2);
  CHECK(config->listeners[0].listen[1].to_string() == "[::1]:5514");
  CHECK(config->listeners[0].receive_buffer_bytes == 8ULL << 20);
  CHECK(config->listeners[1].transport == SyslogTransport::kTls);
  CHECK(config->listeners[1].require_client_cert);
  CHECK(config->listeners[1].tls.ca == "/ca.pem");
  CHECK(config->allow.size() == 2);
  CHECK(config->max_message_bytes == 8192);
  CHECK(config->rate_per_second == 500);
  CHECK(config->rate_burst == 2000);
  CHECK(config->max_connections == 50);
  CHECK(config->handshake_timeout == std::chrono::seconds(3));
  CHECK(config->udp_queue_bytes == 1ULL << 20);
  CHECK(config->fields.size() == 1);
}

TEST_CASE("syslog collector errors name the key and the fix", "[config][syslog]") {
  CHECK_THAT(error_of("type: syslog\n"), Catch::Contains("at least one listener: udp, tcp or tls"));
  CHECK_THAT(error_of("type: syslog\nudp: { listen: [\"localhost:514\"] }\n"),
             Catch::Contains("is not an IP address"));
  CHECK_THAT(error_of("type: syslog\nudp: { listen: [\"514\"] }\n"),
             Catch::Contains("is not an endpoint"));
  CHECK_THAT(error_of("type: syslog\ntls: {}\n"), Catch::Contains("cert"));
  CHECK_THAT(error_of("type: syslog\ntls:\n"), Catch::Contains("needs at least 'cert' and 'key'"));
  CHECK_THAT(error_of("type: syslog\ntls: { cert: /c, key: /k, require_client_cert: true }\n"),
             Catch::Contains("require_client_cert needs 'ca'"));
  CHECK_THAT(error_of("type: syslog\nudp: {}\nallow: [\"10.1.2.3/8\"]\n"),
             Catch::Contains("write 10.0.0.0/8"));
  CHECK_THAT(error_of("type: syslog\nudp: {}\nrate_limit: { burst: 5 }\n"),
             Catch::Contains("messages_per_second"));
  CHECK_THAT(error_of("type: syslog\nudp: {}\nmax_message_size: 100\n"),
             Catch::Contains("max_message_size"));
  CHECK_THAT(error_of("type: syslog\nudp: { port: 514 }\n"), Catch::Contains("port"));
  CHECK_THAT(error_of("type: syslog\nudp: {}\nalow: []\n"), Catch::Contains("alow"));
}

}  // namespace assas::collectors
