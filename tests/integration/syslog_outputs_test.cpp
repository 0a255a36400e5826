// The `syslog` and `relp` outputs (issue 7) against real receivers: Debian's rsyslogd (imrelp,
// imtcp with RFC 5425 TLS, imudp) and syslog-ng, started from the example configs users copy
// (docs/outputs/, through syslog_receivers.h). Lines are written to files, read by the real agent's
// file collector, and counted by id at the receiver: every line exactly once, the fields as the
// receiver parsed them, and receivers with the wrong name or CA refused.

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <unistd.h>

#include "tests/integration/deployment.h"
#include "tests/integration/log_writer.h"
#include "tests/integration/syslog_receivers.h"
#include "tests/support/journal_files.h"
#include "tests/support/process_guard.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "tests/support/wait_for.h"

namespace assas::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPipeline =
    "pipeline: { batch: { max_delay: 50ms } }\nmetrics: { interval: 200ms }\n";

std::string pki_dir(const Deployment& d) {
  return d.root() + "/pki";
}

// The receiver's side of the TLS: the test PKI's server certificate (localhost, 127.0.0.1), and
// mutual TLS as the shipped examples have it.
ReceiverTls receiver_tls(const Deployment& d) {
  std::string pki = pki_dir(d);
  return ReceiverTls{pki + "/ca.pem", pki + "/ingest.pem", pki + "/ingest.key", true};
}

// One output entry of `type` to endpoints, TLS with the test PKI's CA and the agent's certificate
// unless tls is given (an empty string: no tls block), plus extra keys.
std::string output_yaml(const Deployment& d, const std::string& type,
                        const std::vector<std::string>& endpoints, const std::string& extra = "",
                        std::optional<std::string> tls = std::nullopt) {
  std::string list;
  for (const std::string& e : endpoints) {
    list += (list.empty() ? "\"" : ", \"") + e + "\"";
  }
  std::string tls_yaml = tls ? *tls : d.output_tls_yaml();
  return "outputs:\n  - type: " + type + "\n    name: soc\n    endpoints: [" + list +
         "]\n    backoff: { min: 50ms, max: 500ms }\n" + tls_yaml + extra;
}

// Every id ("<tag>#<n>") in the messages a receiver wrote.
std::vector<std::string> ids_received(const SyslogReceiver& receiver) {
  std::vector<ReceivedEvent> events;
  for (const ReceivedSyslog& m : receiver.received()) {
    events.push_back(ReceivedEvent{"", m.msg, 0, {}});
  }
  return received_ids(events);
}

struct Tally {
  size_t missing = 0;
  size_t doubled = 0;
  size_t unexpected = 0;
};

Tally tally(const SyslogReceiver& receiver, const std::vector<std::string>& expected) {
  std::map<std::string, int> counts;
  for (const std::string& id : ids_received(receiver)) {
    ++counts[id];
  }
  Tally t;
  for (const std::string& id : expected) {
    auto it = counts.find(id);
    if (it == counts.end()) {
      ++t.missing;
      continue;
    }
    t.doubled += static_cast<size_t>(it->second - 1);
    counts.erase(it);
  }
  t.unexpected = counts.size();
  return t;
}

// Waits (bounded) until the receiver has every expected line, gives duplicates a second to show,
// then requires each line exactly once (or, with allow_doubles, at least once).
void require_delivered(const Deployment& d, const SyslogReceiver& receiver,
                       const std::vector<std::string>& expected, bool allow_doubles = false,
                       std::chrono::seconds deadline = 120s) {
  wait_for([&] { return receiver.count() >= expected.size(); }, deadline, 100ms);
  std::this_thread::sleep_for(1s);
  Tally t = tally(receiver, expected);
  std::printf("  %s: %zu lines expected, %zu missing, %zu doubled, %zu unexpected\n",
              to_string(receiver.kind()).c_str(), expected.size(), t.missing, t.doubled,
              t.unexpected);
  if (t.missing > 0 || t.unexpected > 0 || (!allow_doubles && t.doubled > 0)) {
    std::string log = d.agent_log();
    INFO("agent log (tail):\n" << log.substr(log.size() > 6000 ? log.size() - 6000 : 0));
    INFO("receiver log:\n" << receiver.log());
    CHECK(t.missing == 0);
    CHECK(t.unexpected == 0);
    CHECK((allow_doubles || t.doubled == 0));
    FAIL("lines missing, doubled or unexpected at " + to_string(receiver.kind()));
  }
}

std::string host_name() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

void run_100k(ReceiverKind kind, const std::string& type, const std::string& extra = "") {
  Deployment d;
  SyslogReceiver receiver(d.root() + "/receiver", kind, receiver_tls(d));
  d.set_outputs(output_yaml(d, type, {receiver.endpoint()}, extra));
  d.start_agent(kPipeline);
  LogWriter writer(d.logs_dir() + "/app.log", "k");
  auto start = std::chrono::steady_clock::now();
  writer.write(100000);
  require_delivered(d, receiver, writer.ids());
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("  %s: 100,000 lines in %.1f s\n", to_string(kind).c_str(), seconds);
  REQUIRE(d.metric("assas_output_connected{output=\"soc\"}") == 1);
  REQUIRE(d.agent().terminate(20s) == 0);
  // The agent said goodbye (RELP close, TLS close_notify): the receiver logs no broken session.
  std::this_thread::sleep_for(500ms);
  INFO(receiver.log());
  CHECK(receiver.log().find("session broken") == std::string::npos);
}

TEST_CASE("relp output: 100000 lines from a file reach rsyslog over RELP in TLS exactly once",
          "[integration][outputs][relp]") {
  run_100k(ReceiverKind::kRsyslogRelpTls, "relp");
}

TEST_CASE("syslog output: 100000 lines reach rsyslog over RFC 5425 TLS exactly once",
          "[integration][outputs][syslog]") {
  run_100k(ReceiverKind::kRsyslogTls, "syslog");
}

TEST_CASE("syslog output: 100000 lines reach syslog-ng over RFC 5425 TLS exactly once",
          "[integration][outputs][syslog]") {
  run_100k(ReceiverKind::kSyslogNgTls, "syslog");
}

TEST_CASE("relp output: restarting rsyslog in the middle of the stream loses nothing",
          "[integration][outputs][relp]") {
  Deployment d;
  SyslogReceiver receiver(d.root() + "/receiver", ReceiverKind::kRsyslogRelpTls, receiver_tls(d));
  d.set_outputs(output_yaml(d, "relp", {receiver.endpoint()}));
  d.start_agent(kPipeline);
  // 100,000 lines over about 4 s; rsyslog is restarted twice while they flow.
  PacedWriter writer(d.logs_dir() + "/app.log", 100000, 0, 200, 8ms);
  for (int restart = 0; restart < 2; ++restart) {
    REQUIRE(wait_for(
        [&] { return receiver.count() >= static_cast<size_t>(20000 + restart * 30000); }, 60s));
    receiver.restart();
  }
  const std::vector<std::string>& ids = writer.finish();
  require_delivered(d, receiver, ids);
  REQUIRE(d.metric("assas_output_disconnects_total{output=\"soc\"}") >= 2);
  REQUIRE(d.agent().terminate(20s) == 0);
}

TEST_CASE(
    "relp and syslog outputs: a frozen receiver holds the agent at its window and gets "
    "every line when it thaws",
    "[integration][outputs][relp][syslog]") {
  for (auto [kind, type] : {std::pair{ReceiverKind::kRsyslogRelpTls, "relp"},
                            std::pair{ReceiverKind::kRsyslogTls, "syslog"}}) {
    DYNAMIC_SECTION(type) {
      Deployment d;
      SyslogReceiver receiver(d.root() + "/receiver", kind, receiver_tls(d));
      d.set_outputs(
          output_yaml(d, type, {receiver.endpoint()},
                      "    max_inflight: 256KiB\n" +
                          std::string(type == std::string("relp") ? "    window: 64\n" : "")));
      d.start_agent(
          "pipeline: { batch: { max_delay: 50ms, max_bytes: 256KiB } }\n"
          "metrics: { interval: 200ms }\n");
      LogWriter writer(d.logs_dir() + "/app.log", "k");
      writer.write(1000);
      REQUIRE(receiver.wait_for(1000, 30s));
      REQUIRE(::kill(receiver.pid(), SIGSTOP) == 0);  // alive, connected, and reading nothing
      writer.write(60000);
      std::this_thread::sleep_for(3s);
      double inflight_peak = d.metric("assas_output_inflight_bytes_peak{output=\"soc\"}");
      size_t during = receiver.count();
      REQUIRE(::kill(receiver.pid(), SIGCONT) == 0);
      require_delivered(d, receiver, writer.ids());
      std::printf("  %s: frozen with %zu of 61,000 lines written; in-flight peak %.0f bytes\n",
                  type, during, inflight_peak);
      CHECK(inflight_peak > 0);
      // max_inflight plus one batch (256 KiB of events, under 1 MiB formatted).
      CHECK(inflight_peak < 256 * 1024 + 1024 * 1024);
      REQUIRE(d.agent().terminate(20s) == 0);
    }
  }
}

TEST_CASE(
    "syslog output: hostname app-name and structured data arrive as rsyslog and syslog-ng "
    "parse them",
    "[integration][outputs][syslog]") {
  for (ReceiverKind kind :
       {ReceiverKind::kRsyslogTls, ReceiverKind::kSyslogNgTls, ReceiverKind::kRsyslogRelpTls}) {
    DYNAMIC_SECTION(to_string(kind)) {
      Deployment d;
      SyslogReceiver receiver(d.root() + "/receiver", kind, receiver_tls(d));
      d.set_collector("    paths: [\"" + d.logs_dir() +
                      "/*.log\"]\n"
                      "    start_at: beginning\n"
                      "    stat_interval: 100ms\n"
                      "    fields: { site: rabat, note: 'say \"hi\" \\ [x] ok' }\n");
      std::string type = kind == ReceiverKind::kRsyslogRelpTls ? "relp" : "syslog";
      d.set_outputs(output_yaml(d, type, {receiver.endpoint()},
                                "    format: { facility: local4, severity: warning }\n"));
      d.start_agent(kPipeline);
      LogWriter writer(d.logs_dir() + "/app.log", "k");
      writer.write(3);
      REQUIRE(receiver.wait_for(3, 30s));
      std::vector<ReceivedSyslog> got = receiver.received();
      REQUIRE(got.size() == 3);
      const ReceivedSyslog& m = got[0];
      INFO("raw: " << m.raw);
      CHECK(m.hostname == host_name());
      CHECK(m.app_name == "logs");  // the collector's name
      CHECK(m.msg == writer.line(0));
      std::string source = d.logs_dir() + "/app.log";
      CHECK(m.structured_data == "[assas@32473 collector=\"logs\" source=\"" + source +
                                     "\" site=\"rabat\" note=\"say \\\"hi\\\" \\\\ [x\\] ok\"]");
      CHECK(m.raw.rfind("<164>1 ", 0) == 0);  // local4.warning = 20 * 8 + 4
      REQUIRE(d.agent().terminate(20s) == 0);
    }
  }
}

TEST_CASE("relp output: journald entries keep their priority identifier pid host and time",
          "[integration][outputs][relp]") {
  if (!journal_remote_available()) {
    WARN("systemd-journal-remote is missing: scripts/install-deps.sh installs it");
    return;
  }
  Deployment d;
  SyslogReceiver receiver(d.root() + "/receiver", ReceiverKind::kRsyslogRelpTls, receiver_tls(d));
  std::string journal = d.root() + "/journal";
  std::filesystem::create_directories(journal);
  const uint64_t base_usec = 1700000000000000;  // 2023-11-14T22:13:20Z
  write_journal_file(journal + "/system.journal", numbered_journal_entries("j", 0, 16, base_usec));
  d.set_collectors("  - type: journal\n    name: j\n    directory: " + journal +
                   "\n    start_at: beginning\n");
  d.set_outputs(output_yaml(d, "relp", {receiver.endpoint()}));
  d.start_agent(kPipeline);
  REQUIRE(receiver.wait_for(16, 30s));
  std::vector<ReceivedSyslog> got = receiver.received();
  REQUIRE(got.size() == 16);
  const char* identifiers[] = {"sshd", "sudo", "kernel"};
  for (int n = 0; n < 16; ++n) {
    const ReceivedSyslog& m = got[static_cast<size_t>(n)];
    INFO("raw: " << m.raw);
    // facility user (the entries have no SYSLOG_FACILITY), severity PRIORITY = n % 8
    CHECK(m.raw.rfind("<" + std::to_string(8 + n % 8) + ">1 ", 0) == 0);
    char time[48];  // room for any int, as GCC checks at -O1
    std::snprintf(time, sizeof time, " 2023-11-14T22:13:20.%06dZ gw-07 ", n);
    CHECK(m.raw.find(time) != std::string::npos);  // the entry's own time, not the read time
    CHECK(m.hostname == "gw-07");
    CHECK(m.app_name == identifiers[n % 3]);
    CHECK(m.procid == std::to_string(1000 + n % 97));
    CHECK(m.msg == "j#" + std::to_string(n) + " event " + std::to_string(n) + " from the journal");
    CHECK(m.structured_data.find("_SYSTEMD_UNIT=\"" + std::string(identifiers[n % 3]) +
                                 ".service\"") != std::string::npos);
  }
  REQUIRE(d.agent().terminate(20s) == 0);
}

TEST_CASE(
    "syslog and relp outputs without TLS: plain TCP with newline framing and UDP and RELP "
    "reach rsyslog",
    "[integration][outputs][syslog][relp]") {
  struct Case {
    ReceiverKind kind;
    const char* type;
    const char* extra;
  };
  for (Case c :
       {Case{ReceiverKind::kRsyslogTcp, "syslog", "    transport: tcp\n    framing: newline\n"},
        Case{ReceiverKind::kRsyslogUdp, "syslog", "    transport: udp\n"},
        Case{ReceiverKind::kRsyslogRelp, "relp", "    transport: tcp\n"}}) {
    DYNAMIC_SECTION(to_string(c.kind)) {
      Deployment d;
      SyslogReceiver receiver(d.root() + "/receiver", c.kind);
      d.set_outputs(output_yaml(d, c.type, {receiver.endpoint()}, c.extra, ""));
      d.start_agent(kPipeline);
      LogWriter writer(d.logs_dir() + "/app.log", "k");
      // UDP: few enough that the burst fits rsyslog's socket buffer (about 200 KiB, some 250
      // datagrams of this size); beyond that the kernel drops datagrams, as UDP does.
      writer.write(c.kind == ReceiverKind::kRsyslogUdp ? 150 : 500);
      require_delivered(d, receiver, writer.ids());
      REQUIRE(d.agent().terminate(20s) == 0);
    }
  }
}

TEST_CASE("relp output: fails over past a dead endpoint to a live one",
          "[integration][outputs][relp]") {
  Deployment d;
  SyslogReceiver receiver(d.root() + "/receiver", ReceiverKind::kRsyslogRelpTls, receiver_tls(d));
  // Nothing listens on receiver port + 1 (checked by the failure it gives).
  std::string dead = "127.0.0.1:" + std::to_string(receiver.port() + 1);
  d.set_outputs(output_yaml(d, "relp", {dead, receiver.endpoint()}, "    failback_after: 0s\n"));
  d.start_agent(kPipeline);
  LogWriter writer(d.logs_dir() + "/app.log", "k");
  writer.write(5000);
  require_delivered(d, receiver, writer.ids());
  CHECK(d.metric("assas_output_retries_total{output=\"soc\"}") >= 1);
  REQUIRE(d.agent().terminate(20s) == 0);
}

TEST_CASE(
    "relp and syslog outputs refuse a receiver certificate for another name or from "
    "another CA",
    "[integration][outputs][relp][syslog]") {
  struct Case {
    ReceiverKind kind;
    const char* type;
    bool wrong_name;
  };
  for (Case c : {Case{ReceiverKind::kRsyslogTls, "syslog", true},
                 Case{ReceiverKind::kRsyslogTls, "syslog", false},
                 Case{ReceiverKind::kRsyslogRelpTls, "relp", true},
                 Case{ReceiverKind::kRsyslogRelpTls, "relp", false}}) {
    DYNAMIC_SECTION(c.type << (c.wrong_name ? " wrong name" : " wrong CA")) {
      Deployment d;
      SyslogReceiver receiver(d.root() + "/receiver", c.kind, receiver_tls(d));
      std::string pki = pki_dir(d);
      std::string ca = pki + "/ca.pem";
      if (!c.wrong_name) {
        // Another CA altogether: the receiver's certificate is not signed by it.
        TestPki other = make_test_pki(d.root() + "/other-pki", "it-agent");
        ca = other.ca();
      }
      std::string tls =
          "    tls:\n      ca: " + ca + "\n      cert: " + pki + "/agent.pem\n      key: " + pki +
          "/agent.key\n      server_name: " + (c.wrong_name ? "soc.example.org" : "localhost") +
          "\n";
      d.set_outputs(output_yaml(d, c.type, {receiver.endpoint()}, "", tls));
      d.start_agent(kPipeline);
      LogWriter writer(d.logs_dir() + "/app.log", "k");
      writer.write(10);
      REQUIRE(wait_for([&] { return d.metric("assas_output_retries_total{output=\"soc\"}") >= 2; },
                       20s));
      std::string log = d.agent_log();
      INFO(log);
      CHECK(log.find(c.wrong_name ? "TLS peer certificate refused: hostname mismatch"
                                  : "TLS peer certificate refused: self-signed certificate in "
                                    "certificate chain") != std::string::npos);
      CHECK(d.metric("assas_output_connected{output=\"soc\"}") == 0);
      CHECK(receiver.count() == 0);
      REQUIRE(d.agent().terminate(20s) == 0);
    }
  }
}

TEST_CASE(
    "syslog output sends the receiver's name as SNI and the receiver picks its certificate "
    "by it",
    "[integration][outputs][syslog]") {
  // openssl s_server presents a certificate from another CA unless the client asks for
  // "localhost" by SNI, for which it presents the one from the agent's CA: the handshake succeeds
  // only if the agent sent the name. (-quiet also keeps s_server from stopping at the end of its
  // stdin; it writes what it receives only when it exits, so the handshake is what is checked.)
  Deployment d;
  std::string pki = pki_dir(d);
  TestPki other = make_test_pki(d.root() + "/other-pki", "it-agent");
  int port = pick_free_port();
  ProcessGuard server;
  server.start(
      {"/usr/bin/openssl", "s_server", "-quiet", "-accept", "127.0.0.1:" + std::to_string(port),
       "-cert", other.server_cert(), "-key", other.server_key(), "-servername", "localhost",
       "-cert2", pki + "/ingest.pem", "-key2", pki + "/ingest.key"},
      {}, d.root() + "/s_server.log");
  std::string tls = "    tls:\n      ca: " + pki + "/ca.pem\n      server_name: localhost\n";
  d.set_outputs(output_yaml(d, "syslog", {"127.0.0.1:" + std::to_string(port)}, "", tls));
  d.start_agent(kPipeline);
  LogWriter writer(d.logs_dir() + "/app.log", "k");
  writer.write(20);
  bool connected = wait_for(
      [&] { return d.agent_log().find("connected to receiver output=soc") != std::string::npos; },
      20s);
  INFO(d.agent_log());
  CHECK(connected);
  CHECK(d.agent_log().find("certificate refused") == std::string::npos);
  REQUIRE(d.agent().terminate(20s) == 0);
  server.terminate(5s);
}

}  // namespace
}  // namespace assas::test
