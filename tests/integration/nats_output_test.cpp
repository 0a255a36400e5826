// The `nats` output (issue 9) against a real 3-node JetStream cluster (nats-server from Debian):
// lines written to a file reach an R3 stream exactly once, in the JSON assas-ingest writes, also
// when the stream's leader and the agent are killed mid-stream; TLS is verified; the agent buffers
// while the cluster is down; a wrong password is refused with a clear error. The stream is read
// back with a pull consumer, as a SIEM would.

#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/integration/deployment.h"
#include "tests/integration/log_writer.h"
#include "tests/integration/nats_cluster.h"
#include "tests/support/jsonl_reader.h"
#include "tests/support/test_pki.h"
#include "tests/support/wait_for.h"

namespace assas::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kStream = "LOGS";
constexpr const char* kSubjects = "logs.>";
// Longer than any test: every resend is within it (production: docs/outputs/nats.md).
constexpr auto kDuplicateWindow = 10min;
constexpr const char* kPipeline =
    "pipeline: { batch: { max_delay: 50ms } }\nmetrics: { interval: 200ms }\n";

// The agent's nats output entry (at the indentation of `outputs:` items), plus extra keys.
std::string nats_yaml(const std::string& endpoints, const std::string& extra) {
  return "  - type: nats\n    name: bus\n    endpoints: " + endpoints +
         "\n    subject: \"logs.{agent}.{collector}\"\n"
         "    backoff: { min: 50ms, max: 500ms }\n    connect_timeout: 2s\n    ack_timeout: 8s\n"
         "    stream: { name: LOGS }\n" +
         extra;
}

std::string tcp_outputs(const NatsCluster& cluster, const std::string& extra = "") {
  return "outputs:\n" + nats_yaml(cluster.endpoints_yaml(), "    transport: tcp\n" + extra);
}

// A cluster without TLS or authorization, in the deployment's directory.
NatsClusterOptions plain_cluster(const Deployment& d) {
  NatsClusterOptions o;
  o.dir = d.root() + "/nats";
  return o;
}

struct Lines {
  std::vector<std::map<std::string, std::string>> events;  // every JSON line, parsed
  std::set<std::string> subjects;
};

Lines lines_of(const std::vector<NatsStoredMessage>& messages) {
  Lines out;
  for (const NatsStoredMessage& m : messages) {
    out.subjects.insert(m.subject);
    std::istringstream in(m.data);
    for (std::string line; std::getline(in, line);) {
      out.events.push_back(parse_json_object(line));
    }
  }
  return out;
}

// Waits until the stream holds every expected id, then fails with the missing and doubled ones.
void require_exactly_once_in_stream(NatsCluster& cluster, const std::vector<std::string>& expected,
                                    const Deployment& d, std::chrono::seconds deadline = 90s) {
  std::map<std::string, int> counts;
  auto count = [&] {
    counts.clear();
    std::vector<ReceivedEvent> events;
    for (auto& object : lines_of(cluster.read_all(kStream, kSubjects)).events) {
      events.push_back(ReceivedEvent{object["source"], object["message"], 0, {}});
    }
    for (const std::string& id : received_ids(events)) {
      ++counts[id];
    }
    return counts.size() >= expected.size();
  };
  bool all = wait_for(count, deadline, 1s);
  std::this_thread::sleep_for(1s);  // room for a duplicate to show up
  count();
  size_t missing = 0;
  size_t doubled = 0;
  for (const std::string& id : expected) {
    auto it = counts.find(id);
    missing += it == counts.end() ? 1 : 0;
    doubled += it != counts.end() && it->second > 1 ? 1 : 0;
  }
  INFO("agent log:\n"
       << d.agent_log().substr(d.agent_log().size() > 6000 ? d.agent_log().size() - 6000 : 0));
  CHECK(all);
  CHECK(missing == 0);
  CHECK(doubled == 0);
  CHECK(counts.size() == expected.size());
}

// Runs the agent with refused_outputs until its log says refusal, checks that nothing got
// through, then with accepted_outputs: every line written meanwhile arrives exactly once.
void require_refused_then_accepted(Deployment& d, NatsCluster& cluster,
                                   const std::string& refused_outputs,
                                   const std::string& accepted_outputs,
                                   const std::string& refusal) {
  d.set_outputs(refused_outputs);
  d.start_agent(kPipeline);
  LogWriter writer(d.logs_dir() + "/app.log", "r");
  writer.write(500);
  REQUIRE(wait_for([&] { return d.agent_log().find(refusal) != std::string::npos; }, 20s));
  CHECK(wait_for([&] { return d.metric("assas_output_retries_total{output=\"bus\"}") > 0; }, 10s));
  CHECK(d.metric("assas_output_connected{output=\"bus\"}") == 0);
  CHECK(cluster.message_count(kStream) == 0);

  d.agent().terminate(10s);
  d.set_outputs(accepted_outputs);
  d.start_agent(kPipeline);
  require_exactly_once_in_stream(cluster, writer.ids(), d);
}

TEST_CASE("issue 9: 100000 lines reach an R3 JetStream stream exactly once as assas-ingest's JSON",
          "[integration][nats]") {
  Deployment d;
  NatsCluster cluster(plain_cluster(d));
  cluster.create_stream(kStream, kSubjects, kDuplicateWindow);
  d.start_ingest();
  // Beside the assas output, each with its own position in the buffer.
  d.set_outputs("outputs:\n  - type: assas\n    name: soc\n    endpoints: [\"" + d.endpoint(0) +
                "\"]\n    backoff: { min: 50ms, max: 500ms }\n" + d.output_tls_yaml() +
                nats_yaml(cluster.endpoints_yaml(), "    transport: tcp\n"));
  d.start_agent(kPipeline);
  LogWriter writer(d.logs_dir() + "/app.log", "n");
  writer.write(100000);
  require_exactly_once_in_stream(cluster, writer.ids(), d);
  require_exactly_once(d, writer.ids());

  Lines stored = lines_of(cluster.read_all(kStream, kSubjects));
  REQUIRE(!stored.events.empty());
  CHECK(stored.subjects == std::set<std::string>{"logs.it-agent.logs"});
  std::vector<std::string> ingest_lines =
      read_lines_of(d.root() + "/ingest-data/it-agent/events-*.jsonl");
  REQUIRE(!ingest_lines.empty());
  std::map<std::string, std::string> from_ingest = parse_json_object(ingest_lines.front());
  std::map<std::string, std::string> from_nats = stored.events.front();
  std::set<std::string> ingest_keys;
  std::set<std::string> nats_keys;
  for (const auto& [key, value] : from_ingest) {
    ingest_keys.insert(key);
  }
  for (const auto& [key, value] : from_nats) {
    nats_keys.insert(key);
  }
  CHECK(nats_keys == ingest_keys);
  CHECK(from_nats["agent"] == "it-agent");
  CHECK(from_nats["collector"] == "logs");
}

TEST_CASE(
    "issue 9: kill -9 of the stream leader and of the agent mid-stream leaves every line "
    "exactly once",
    "[integration][nats]") {
  Deployment d;
  NatsCluster cluster(plain_cluster(d));
  cluster.create_stream(kStream, kSubjects, kDuplicateWindow);
  d.set_outputs(tcp_outputs(cluster));
  d.start_agent(kPipeline);
  LogWriter writer(d.logs_dir() + "/app.log", "k");
  writer.write(20000);
  REQUIRE(wait_for([&] { return cluster.message_count(kStream) > 0; }, 30s));
  size_t leader = cluster.stream_leader(kStream);
  cluster.kill9(leader);
  writer.write(20000);
  d.agent().kill9();
  writer.write(10000);
  d.start_agent(kPipeline);
  // The restarted agent has batches to send again (JetStream stored some of them already): what
  // the message ids must de-duplicate.
  std::string log = d.agent_log();
  size_t recovered = log.rfind("disk buffer recovered");
  REQUIRE(recovered != std::string::npos);
  CHECK(log.find("unreleased=0 ", recovered) == std::string::npos);
  cluster.start(leader);
  writer.write(10000);
  require_exactly_once_in_stream(cluster, writer.ids(), d);
}

TEST_CASE("issue 9: the nats output verifies the servers' certificates against its CA",
          "[integration][nats]") {
  Deployment d;
  TestPki pki{d.root() + "/pki"};  // made by Deployment: the server certificate is for localhost
  TestPki other = make_test_pki(d.root() + "/other-pki", "it-agent");
  NatsCluster cluster({d.root() + "/nats", pki.server_cert(), pki.server_key(), pki.ca(), "", ""});
  cluster.create_stream(kStream, kSubjects, kDuplicateWindow);
  auto outputs = [&](const std::string& ca) {
    return "outputs:\n" + nats_yaml(cluster.endpoints_yaml(),
                                    "    tls: { ca: \"" + ca + "\", server_name: localhost }\n");
  };
  require_refused_then_accepted(d, cluster, outputs(other.ca()), outputs(pki.ca()),
                                "SSL handshake error");
}

TEST_CASE(
    "issue 9: with the whole cluster down the agent buffers and delivers everything once "
    "it is back",
    "[integration][nats]") {
  Deployment d;
  NatsCluster cluster(plain_cluster(d));
  cluster.create_stream(kStream, kSubjects, kDuplicateWindow);
  // One message per event, and few answers outstanding: cnats's MaxPending stall is the
  // backpressure that is exercised here.
  d.set_outputs(tcp_outputs(cluster, "    publish: event\n    max_pending_acks: 64\n"));
  d.start_agent(kPipeline);
  LogWriter writer(d.logs_dir() + "/app.log", "b");
  writer.write(1000);
  REQUIRE(wait_for([&] { return cluster.message_count(kStream) > 0; }, 30s));
  for (size_t i = 0; i < NatsCluster::kNodes; ++i) {
    cluster.stop(i);
  }
  writer.write(5000);
  REQUIRE(wait_for([&] { return d.metric("assas_output_connected{output=\"bus\"}") == 0; }, 20s));
  double retries = d.metric("assas_output_retries_total{output=\"bus\"}");
  REQUIRE(wait_for(
      [&] { return d.metric("assas_output_retries_total{output=\"bus\"}") > retries + 2; }, 20s));
  for (size_t i = 0; i < NatsCluster::kNodes; ++i) {
    cluster.start(i);
  }
  cluster.wait_ready(60s);
  writer.write(1000);
  require_exactly_once_in_stream(cluster, writer.ids(), d);
}

TEST_CASE("issue 9: a wrong nats password is refused with a clear error and nothing is stored",
          "[integration][nats]") {
  Deployment d;
  NatsCluster cluster({d.root() + "/nats", "", "", "", "shipper", "right-horse"});
  cluster.create_stream(kStream, kSubjects, kDuplicateWindow);
  auto outputs = [&](const std::string& password) {
    return tcp_outputs(cluster, "    credentials: { user: shipper, password: " + password + " }\n");
  };
  require_refused_then_accepted(d, cluster, outputs("wrong-horse"), outputs("right-horse"),
                                "Authorization Violation");
  CHECK(d.agent_log().find("wrong-horse") == std::string::npos);  // secrets are never logged
}

}  // namespace
}  // namespace assas::test
