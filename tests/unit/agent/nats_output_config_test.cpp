// The `type: nats` output entries of agent.yaml (docs/outputs/nats.md): what each key sets, the
// combinations refused, secret files checked like keys, and the subject rule.

#include <string>

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "agent/config/output_config.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/agent/output_config_test_support.h"
#include "transport/nats/nats_subject.h"

namespace assas::agent {
namespace {

using config_test::contains;
using config_test::error_of;
using config_test::parse;

const std::string kHead =
    "type: nats\nendpoints: [\"nats1.example.ma:4222\", \"nats2.example.ma:4222\"]\n"
    "tls: { ca: /etc/assas/nats-ca.pem }\n";

// A file holding text with the given mode.
std::string secret(const test::TempDir& dir, const std::string& name, const std::string& text,
                   mode_t mode) {
  std::string path = dir.file(name);
  test::write_text_file(path, text);
  REQUIRE(::chmod(path.c_str(), mode) == 0);
  return path;
}

TEST_CASE("a nats output defaults to TLS and one message per batch and subject") {
  OutputSpec spec;
  REQUIRE(parse(kHead, spec) == "");
  const auto& o = std::get<transport::NatsOutputOptions>(spec.options);
  CHECK(o.use_tls);
  CHECK(o.tls.ca == "/etc/assas/nats-ca.pem");
  CHECK(o.subject == "logs.{agent}.{collector}");
  CHECK(o.publish == transport::NatsPublishMode::kBatch);
  CHECK(o.max_pending_acks == 4096);
  CHECK(o.stream.name.empty());
  CHECK(o.credentials.user.empty());
  CHECK(o.name == "nats");
}

TEST_CASE("a nats output takes its subject publish mode limits and stream") {
  OutputSpec spec;
  REQUIRE(
      parse(kHead +
                "subject: \"soc.{host}.{collector}\"\npublish: event\nmax_pending_acks: 100\n"
                "max_inflight_batches: 8\nack_timeout: 5s\n"
                "stream: { name: LOGS, create: true, replicas: 3, max_age: 168h, max_bytes: 10GiB,"
                " duplicate_window: 2h, subjects: [\"soc.>\"] }\n",
            spec) == "");
  const auto& o = std::get<transport::NatsOutputOptions>(spec.options);
  CHECK(o.subject == "soc.{host}.{collector}");
  CHECK(o.publish == transport::NatsPublishMode::kEvent);
  CHECK(o.max_pending_acks == 100);
  CHECK(o.max_inflight_batches == 8);
  CHECK(o.ack_timeout == std::chrono::seconds(5));
  CHECK(o.stream.name == "LOGS");
  CHECK(o.stream.create);
  CHECK(o.stream.replicas == 3);
  CHECK(o.stream.max_age == std::chrono::hours(24 * 7));
  CHECK(o.stream.max_bytes == (10LL << 30));
  CHECK(o.stream.duplicate_window == std::chrono::hours(2));
  CHECK(o.stream.subjects == std::vector<std::string>{"soc.>"});
}

TEST_CASE(
    "a nats subject template with a wildcard an empty token or an unknown placeholder is "
    "refused") {
  CHECK(contains(error_of(kHead + "subject: \"logs.*\"\n"), "wildcard"));
  CHECK(contains(error_of(kHead + "subject: \"logs.>\"\n"), "wildcard"));
  CHECK(contains(error_of(kHead + "subject: \"logs..x\"\n"), "empty token"));
  CHECK(contains(error_of(kHead + "subject: \"logs.{agent}.\"\n"), "empty token"));
  CHECK(contains(error_of(kHead + "subject: \"logs {agent}\"\n"), "space"));
  CHECK(contains(error_of(kHead + "subject: \"logs.{user}\"\n"), "'{user}' is not a placeholder"));
  CHECK(contains(error_of(kHead + "publish: stream\n"), "publish"));
}

TEST_CASE("placeholder values become single subject tokens whatever their bytes") {
  std::string out;
  transport::append_subject(out, "logs.{agent}.{host}.{collector}",
                            transport::SubjectValues{"a.b*c>d", "web 01\tx", ""});
  CHECK(out == "logs.a_b_c_d.web_01_x._");
  CHECK(transport::subject_wildcard("logs.{agent}.x{collector}") == "logs.*.x*");
  std::string line =
      "{\"ts\":\"t\",\"agent\":\"a\\\",\\\"host\",\"host\":\"web-1\",\"collector\":\"c\"}";
  CHECK(transport::event_json_host(line) == "web-1");
}

TEST_CASE("nats credentials take exactly one way to log in") {
  test::TempDir dir;
  std::string pw = secret(dir, "pw", "s3cret\n", 0600);
  std::string seed = secret(dir, "seed", "SUAxxx\n", 0600);
  OutputSpec spec;
  REQUIRE(parse(kHead + "credentials: { user: agent, password_file: " + pw + " }\n", spec) == "");
  const auto& o = std::get<transport::NatsOutputOptions>(spec.options);
  CHECK(o.credentials.user == "agent");
  CHECK(o.credentials.password == "s3cret");
  CHECK(contains(error_of(kHead + "credentials: { user: agent }\n"), "needs password"));
  CHECK(contains(error_of(kHead + "credentials: { password: x }\n"), "exactly one way"));
  CHECK(contains(
      error_of(kHead + "credentials: { user: a, password: x, password_file: " + pw + " }\n"),
      "not both"));
  CHECK(contains(error_of(kHead +
                          "credentials: { user: a, password: x, nkey: UABC, "
                          "nkey_seed_file: " +
                          seed + " }\n"),
                 "exactly one way"));
  CHECK(contains(error_of(kHead + "credentials: { nkey: UABC }\n"), "go together"));
  CHECK(error_of(kHead + "credentials: { nkey: UABC, nkey_seed_file: " + seed + " }\n") == "");
  CHECK(contains(error_of(kHead + "credentials: { user: a, password: x, token: y }\n"), "token"));
}

TEST_CASE("a nats secret file readable by others or missing is refused with the fix") {
  test::TempDir dir;
  std::string open_seed = secret(dir, "seed", "SUAxxx\n", 0644);
  std::string open_creds = secret(dir, "agent.creds", "jwt\n", 0640);
  CHECK(
      contains(error_of(kHead + "credentials: { nkey: UABC, nkey_seed_file: " + open_seed + " }\n"),
               "run: chmod 600 " + open_seed));
  CHECK(contains(error_of(kHead + "credentials: { creds_file: " + open_creds + " }\n"),
                 "readable by group or others"));
  CHECK(contains(error_of(kHead + "credentials: { creds_file: " + dir.file("none") + " }\n"),
                 "not found"));
}

TEST_CASE("nats stream limits without create and a loadbalanced nats output are refused") {
  CHECK(contains(error_of(kHead + "stream: { name: LOGS, replicas: 3 }\n"), "create: true"));
  CHECK(contains(error_of(kHead + "stream: { create: true }\n"), "name"));
  CHECK(contains(error_of(kHead + "stream: { name: LOGS, create: true, replicas: 7 }\n"),
                 "replicas"));
  CHECK(contains(error_of(kHead + "mode: loadbalance\n"), "spreads the load"));
  CHECK(contains(error_of("type: nats\ntransport: tcp\nendpoints: [\"n:4222\"]\ntls: { ca: /x }\n"),
                 "tls is set but transport is tcp"));
  CHECK(contains(error_of(kHead + "colour: blue\n"), "colour"));
}

TEST_CASE("a nats output that creates a stream it does not name is refused when built") {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  transport::NatsOutputOptions o;
  o.endpoints = {"127.0.0.1:4222"};
  o.use_tls = false;
  o.subject = "logs.{agent}";
  o.stream.create = true;
  auto made = transport::make_nats_output(&loop, o);
  REQUIRE(!made.is_ok());
  CHECK(contains(made.status().message(), "stream.create needs stream.name"));
  REQUIRE(uv_loop_close(&loop) == 0);
}

}  // namespace
}  // namespace assas::agent
