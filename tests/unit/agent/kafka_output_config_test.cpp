// The `type: kafka` output entry of agent.yaml (docs/outputs/kafka.md): what each key sets, the
// librdkafka properties that follow from them, and the errors for the mistakes a SOC engineer
// will make. The TLS and SASL settings are tested here and at --check only: librdkafka's mock
// cluster, which the integration test runs, speaks neither.

#include <string>

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "agent/config/output_config.h"
#include "base/file_util.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/agent/output_config_test_support.h"
#include "transport/kafka/kafka_properties.h"

namespace assas::agent {
namespace {

using config_test::contains;
using config_test::error_of;
using config_test::parse;

std::string property(const transport::KafkaProperties& p, const std::string& name) {
  for (const auto& [n, v] : p) {
    if (n == name) {
      return v;
    }
  }
  return "<unset>";
}

const std::string kBase =
    "type: kafka\nendpoints: [\"kafka1.example.ma:9093\", \"kafka2.example.ma:9093\"]\n"
    "topic: soc.events\n";
const std::string kTls = "tls: { ca: /etc/assas/kafka-ca.pem }\n";

TEST_CASE("a kafka output defaults to an idempotent producer over verified TLS keyed by agent") {
  OutputSpec spec;
  REQUIRE(parse(kBase + kTls, spec) == "");
  const auto& o = std::get<transport::KafkaOutputOptions>(spec.options);
  CHECK(o.topic == "soc.events");
  CHECK(o.key == "{agent}");
  CHECK(o.use_tls);
  CHECK(o.compression == "zstd");
  Result<transport::KafkaProperties> p = transport::kafka_properties(o);
  REQUIRE(p.is_ok());
  CHECK(property(*p, "enable.idempotence") == "true");
  CHECK(property(*p, "acks") == "all");
  CHECK(property(*p, "max.in.flight.requests.per.connection") == "5");
  CHECK(property(*p, "compression.codec") == "zstd");
  CHECK(property(*p, "security.protocol") == "ssl");
  CHECK(property(*p, "ssl.ca.location") == "/etc/assas/kafka-ca.pem");
  CHECK(property(*p, "ssl.endpoint.identification.algorithm") == "https");
  CHECK(property(*p, "enable.ssl.certificate.verification") == "true");
  CHECK(property(*p, "bootstrap.servers") == "kafka1.example.ma:9093,kafka2.example.ma:9093");
  CHECK(property(*p, "message.timeout.ms") == "300000");
  CHECK(property(*p, "queue.buffering.max.kbytes") != "<unset>");
  CHECK(property(*p, "queue.buffering.max.messages") != "<unset>");
  // Every property is one librdkafka 2.0 knows, with a valid value.
  Result<rd_kafka_conf_t*> conf = transport::make_kafka_conf(*p);
  REQUIRE(conf.is_ok());
  rd_kafka_conf_destroy(*conf);
}

TEST_CASE("a kafka output sets its key compression timeouts and extra librdkafka properties") {
  OutputSpec spec;
  REQUIRE(parse(kBase + kTls +
                    "key: \"{host}/{collector}\"\ncompression: lz4\ndelivery_timeout: 2m\n"
                    "linger: 20ms\nmax_message_size: 2MB\nlibrdkafka: { client.rack: r1 }\n",
                spec) == "");
  const auto& o = std::get<transport::KafkaOutputOptions>(spec.options);
  CHECK(o.key == "{host}/{collector}");
  Result<transport::KafkaProperties> p = transport::kafka_properties(o);
  REQUIRE(p.is_ok());
  CHECK(property(*p, "compression.codec") == "lz4");
  CHECK(property(*p, "message.timeout.ms") == "120000");
  CHECK(property(*p, "linger.ms") == "20");
  CHECK(property(*p, "client.rack") == "r1");
}

TEST_CASE("a kafka output refuses what would break its guarantee or its verification") {
  CHECK(contains(error_of(kBase), "missing required key 'tls'"));
  CHECK(contains(error_of("type: kafka\nendpoints: [\"k:9092\"]\n" + kTls), "topic"));
  CHECK(contains(error_of(kBase + kTls + "key: \"{pid}\"\n"), "{pid}"));
  CHECK(contains(error_of(kBase + kTls + "compression: brotli\n"), "compression"));
  CHECK(contains(error_of(kBase + "tls: { ca: /x, server_name: kafka.example.ma }\n"),
                 "server_name is not supported"));
  CHECK(contains(error_of(kBase + "tls: { ca: /x, min_version: \"1.3\" }\n"), "min_version"));
  CHECK(contains(error_of(kBase + kTls + "mode: loadbalance\n"), "spreads the load"));
  CHECK(contains(error_of(kBase + kTls +
                          "sasl: { mechanism: GSSAPI, username: u, "
                          "password_file: /p }\n"),
                 "mechanism"));
  CHECK(contains(error_of(kBase + kTls + "sasl: { username: u }\n"), "password_file"));
  for (const char* reserved : {"enable.idempotence", "acks", "security.protocol",
                               "enable.ssl.certificate.verification", "message.timeout.ms"}) {
    OutputSpec spec;
    REQUIRE(parse(kBase + kTls + "librdkafka: { " + reserved + ": x }\n", spec) == "");
    Result<transport::KafkaProperties> p =
        transport::kafka_properties(std::get<transport::KafkaOutputOptions>(spec.options));
    REQUIRE_FALSE(p.is_ok());
    CHECK(contains(p.status().message(), reserved));
  }
}

TEST_CASE("an unknown librdkafka property is named without the value of any secret") {
  OutputSpec spec;
  REQUIRE(parse(kBase + kTls + "librdkafka: { no.such.property: x }\n", spec) == "");
  Result<transport::KafkaProperties> p =
      transport::kafka_properties(std::get<transport::KafkaOutputOptions>(spec.options));
  REQUIRE(p.is_ok());
  Result<rd_kafka_conf_t*> conf = transport::make_kafka_conf(*p);
  REQUIRE_FALSE(conf.is_ok());
  CHECK(contains(conf.status().message(), "no.such.property"));
}

TEST_CASE("sasl over tcp is sasl_plaintext and its password file must be private") {
  test::TempDir dir;
  std::string password = dir.file("kafka.password");
  REQUIRE(atomic_write_file(password, "s3cret-value\n").is_ok());
  REQUIRE(::chmod(password.c_str(), 0600) == 0);
  OutputSpec spec;
  REQUIRE(parse(kBase +
                    "transport: tcp\nsasl: { mechanism: SCRAM-SHA-256, username: agent, "
                    "password_file: " +
                    password + " }\n",
                spec) == "");
  REQUIRE(spec.file_nodes.size() == 1);  // checked at --check, as a private file
  CHECK(spec.file_nodes[0].second);
  auto& o = std::get<transport::KafkaOutputOptions>(spec.options);
  Result<transport::KafkaProperties> p = transport::kafka_properties(o);
  REQUIRE(p.is_ok());
  CHECK(property(*p, "security.protocol") == "sasl_plaintext");
  CHECK(property(*p, "sasl.mechanisms") == "SCRAM-SHA-256");
  CHECK(property(*p, "sasl.username") == "agent");
  CHECK(property(*p, "sasl.password") == "s3cret-value");

  REQUIRE(::chmod(password.c_str(), 0644) == 0);
  Result<transport::KafkaProperties> open = transport::kafka_properties(o);
  REQUIRE_FALSE(open.is_ok());
  CHECK(contains(open.status().message(), "chmod 600"));
  CHECK_FALSE(contains(open.status().message(), "s3cret"));
}

TEST_CASE("sasl over tls is sasl_ssl") {
  test::TempDir dir;
  std::string password = dir.file("kafka.password");
  REQUIRE(atomic_write_file(password, "pw").is_ok());
  REQUIRE(::chmod(password.c_str(), 0600) == 0);
  OutputSpec spec;
  REQUIRE(parse(kBase + kTls + "sasl: { mechanism: PLAIN, username: agent, password_file: " +
                    password + " }\n",
                spec) == "");
  Result<transport::KafkaProperties> p =
      transport::kafka_properties(std::get<transport::KafkaOutputOptions>(spec.options));
  REQUIRE(p.is_ok());
  CHECK(property(*p, "security.protocol") == "sasl_ssl");
  CHECK(property(*p, "sasl.password") == "pw");
}

}  // namespace
}  // namespace assas::agent
