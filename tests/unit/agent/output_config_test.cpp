// The outputs: entries of agent.yaml for the syslog and relp types: what each key sets, and the
// errors a SOC engineer gets for the mistakes they will make.

#include "agent/config/output_config.h"

#include <string>

#include <catch2/catch.hpp>

#include "tests/unit/agent/output_config_test_support.h"

namespace assas::agent {
namespace {

using config_test::error_of;
using config_test::parse;

const std::string kEndpoints = "endpoints: [\"siem.example.ma:6514\"]\n";

TEST_CASE("a syslog output defaults to RFC 5425 TLS with octet counting and TLS 1.2 allowed") {
  OutputSpec spec;
  REQUIRE(parse("type: syslog\n" + kEndpoints + "tls: { ca: /etc/assas/ca.pem }\n", spec) == "");
  const auto& o = std::get<transport::SyslogOutputOptions>(spec.options);
  CHECK(o.use_tls);
  CHECK(o.socket == transport::SocketKind::kStream);
  CHECK(o.framing == transport::SyslogFraming::kOctetCounting);
  CHECK(o.tls_policy.allow_tls12);
  CHECK(o.tls_policy.client_cert_optional);
  CHECK(o.tcp_user_timeout == std::chrono::seconds(60));
  CHECK(o.name == "syslog");
  CHECK(spec.file_nodes.size() == 1);  // the CA only: no client certificate
}

TEST_CASE("a syslog output over udp takes no tls and no framing and caps the message size") {
  OutputSpec spec;
  REQUIRE(parse("type: syslog\ntransport: udp\n" + kEndpoints, spec) == "");
  const auto& o = std::get<transport::SyslogOutputOptions>(spec.options);
  CHECK(o.socket == transport::SocketKind::kDatagram);
  CHECK(o.max_message_bytes == 8192);
  CHECK(error_of("type: syslog\ntransport: udp\nframing: newline\n" + kEndpoints)
            .find("a UDP datagram is one message") != std::string::npos);
  CHECK(error_of("type: syslog\ntransport: udp\nmax_message_size: 70000\n" + kEndpoints) != "");
  CHECK(error_of("type: syslog\ntransport: tcp\n" + kEndpoints + "tls: { ca: /x }\n")
            .find("tls is set but transport is tcp") != std::string::npos);
}

TEST_CASE("a syslog output with tls needs a CA and takes a client certificate only with its key") {
  CHECK(error_of("type: syslog\n" + kEndpoints).find("transport: tcp") != std::string::npos);
  CHECK(error_of("type: syslog\n" + kEndpoints + "tls: { ca: /x, cert: /y }\n")
            .find("set both cert and key") != std::string::npos);
  OutputSpec spec;
  REQUIRE(parse("type: syslog\n" + kEndpoints +
                    "tls: { ca: /x, cert: /y, key: /z, min_version: \"1.3\" }\n",
                spec) == "");
  CHECK(spec.file_nodes.size() == 3);
  CHECK_FALSE(spec.session().tls_policy.allow_tls12);
}

TEST_CASE("the format section maps names and checks them") {
  OutputSpec spec;
  REQUIRE(parse("type: syslog\n" + kEndpoints +
                    "tls: { ca: /x }\n"
                    "format:\n"
                    "  facility: local4\n"
                    "  severity: 3\n"
                    "  severity_names: { Fatal: crit, notice2: 5 }\n"
                    "  app_name: gateway\n"
                    "  severity_fields: [level]\n"
                    "  sd_id: \"\"\n",
                spec) == "");
  const auto& f = std::get<transport::SyslogOutputOptions>(spec.options).format;
  CHECK(f.facility == 20);
  CHECK(f.severity == 3);
  REQUIRE(f.severity_names.size() == 2);
  CHECK(f.severity_names[0] == std::pair<std::string, int>{"fatal", 2});
  CHECK(f.app_name == "gateway");
  CHECK(f.severity_fields == std::vector<std::string>{"level"});
  CHECK(f.sd_id.empty());
  CHECK(error_of("type: syslog\n" + kEndpoints + "tls: { ca: /x }\nformat: { facility: local9 }\n")
            .find("'local9' is not a facility") != std::string::npos);
  CHECK(error_of("type: syslog\n" + kEndpoints +
                 "tls: { ca: /x }\nformat: { severity_names: { fatal: loud } }\n")
            .find("maps to 'loud'") != std::string::npos);
  CHECK(error_of("type: syslog\n" + kEndpoints + "tls: { ca: /x }\nformat: { sd_id: \"a b\" }\n") !=
        "");
  CHECK(error_of("type: syslog\n" + kEndpoints + "tls: { ca: /x }\nformat: { colour: red }\n")
            .find("colour") != std::string::npos);
}

TEST_CASE("a relp output has a window and answers as its acknowledgement timeout") {
  OutputSpec spec;
  REQUIRE(parse("type: relp\nname: soc-relp\n" + kEndpoints +
                    "tls: { ca: /x }\nwindow: 64\nack_timeout: 5s\n",
                spec) == "");
  const auto& o = std::get<transport::RelpOutputOptions>(spec.options);
  CHECK(o.window == 64);
  CHECK(o.ack_timeout == std::chrono::seconds(5));
  CHECK(o.name == "soc-relp");
  CHECK(error_of("type: relp\n" + kEndpoints + "tls: { ca: /x }\nwindow: 0\n") != "");
  CHECK(error_of("type: relp\n" + kEndpoints + "tls: { ca: /x }\nmax_message_size: 1MiB\n") != "");
  CHECK(error_of("type: relp\ntransport: udp\n" + kEndpoints) != "");
  CHECK(error_of("type: relp\ntransport: tcp\n" + kEndpoints + "framing: newline\n")
            .find("framing") != std::string::npos);
}

TEST_CASE("an unknown output type names the ones there are") {
  CHECK(error_of("type: elasticsearch\n" + kEndpoints).find("assas, syslog, relp, nats, kafka") !=
        std::string::npos);
}

}  // namespace
}  // namespace assas::agent
