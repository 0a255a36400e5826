// The syslog collector (issue 6) against real senders: util-linux logger over UDP and TCP in both
// formats and both framings, Debian's rsyslogd forwarding over UDP, TCP and TLS with a client
// certificate, and raw sockets for what no real client sends. Counts are exact: every message
// carries an id "<tag>#<n>", and each must arrive exactly once.

#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <unistd.h>

#include "tests/integration/deployment.h"
#include "tests/integration/log_writer.h"
#include "tests/integration/syslog_senders.h"
#include "tests/support/process_guard.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "tests/support/wait_for.h"

namespace assas::test {
namespace {

using namespace std::chrono_literals;

const std::string kPipeline =
    "pipeline: { batch: { max_events: 1024, max_delay: 20ms } }\n"
    "metrics: { interval: 200ms }\n";

std::string syslog_collector(const std::string& body) {
  return "  - type: syslog\n"
         "    name: net\n" +
         body;
}

const std::string kUdpTcp =
    "    udp: { listen: [\"127.0.0.1:0\"] }\n"
    "    tcp: { listen: [\"127.0.0.1:0\"] }\n";

// The one received event whose message contains id; fails the test if there is not exactly one.
ReceivedEvent event_with(const Deployment& d, const std::string& id) {
  std::vector<ReceivedEvent> found;
  for (const ReceivedEvent& e : d.received()) {
    if (e.message.find(id + " ") != std::string::npos ||
        e.message.size() >= id.size() &&
            e.message.compare(e.message.size() - id.size(), id.size(), id) == 0) {
      found.push_back(e);
    }
  }
  INFO("events with " << id);
  REQUIRE(found.size() == 1);
  return found.front();
}

// The metrics file is rewritten every 200 ms: wait (bounded) for the value.
bool metric_reaches(const Deployment& d, const std::string& name, double value) {
  return wait_for([&] { return d.metric(name) == value; }, 10s);
}

std::string field(const ReceivedEvent& e, const std::string& key) {
  auto it = e.fields.find(key);
  return it == e.fields.end() ? "<absent>" : it->second;
}

}  // namespace

TEST_CASE("syslog: logger over UDP and TCP in both formats and framings arrives with its fields",
          "[integration][syslog]") {
  Deployment d;
  d.set_collectors(syslog_collector(kUdpTcp + "    fields: { site: rabat-gw }\n"));
  d.start_ingest();
  d.start_agent(kPipeline);
  int udp = syslog_port(d, "udp");
  int tcp = syslog_port(d, "tcp");

  REQUIRE(run_logger(d, udp,
                     {"--udp", "--rfc5424", "-t", "sshd", "-p", "auth.warning", "--msgid", "LOGIN",
                      "--sd-id", "origin@32473", "--sd-param", "zone=\"dmz \\\"b\\\"\"",
                      "u#0 failed password for root"}) == 0);
  REQUIRE(run_logger(d, tcp,
                     {"--tcp", "--rfc3164", "-t", "sudo", "-p", "local3.err",
                      "t#0 pam_unix(sudo:auth): conversation failed"}) == 0);
  REQUIRE(run_logger(d, tcp,
                     {"--tcp", "--octet-count", "--rfc5424", "-t", "cron", "-p", "cron.info",
                      "o#0 session opened"}) == 0);
  require_exactly_once(d, {"u#0", "t#0", "o#0"}, 30s);

  ReceivedEvent u = event_with(d, "u#0");
  CHECK(u.message.rfind("<36>1 ", 0) == 0);  // the original bytes: auth(4)*8 + warning(4)
  CHECK(u.source == "udp://127.0.0.1:0");
  CHECK(field(u, "format") == "rfc5424");
  CHECK(field(u, "facility") == "auth");
  CHECK(field(u, "severity") == "warning");
  CHECK(field(u, "priority") == "36");
  CHECK(field(u, "appname") == "sshd");
  CHECK(field(u, "msgid") == "LOGIN");
  CHECK(field(u, "sd.origin@32473.zone") == "dmz \"b\"");
  CHECK(field(u, "sender") == "127.0.0.1");
  CHECK(field(u, "site") == "rabat-gw");
  CHECK(field(u, "hostname") != "<absent>");
  CHECK(field(u, "timestamp") != "<absent>");
  CHECK(field(u, "parse_error") == "<absent>");

  ReceivedEvent t = event_with(d, "t#0");
  CHECK(t.message.rfind("<155>", 0) == 0);  // local3(19)*8 + err(3)
  CHECK(t.source == "tcp://127.0.0.1:0");
  CHECK(field(t, "format") == "rfc3164");
  CHECK(field(t, "facility") == "local3");
  CHECK(field(t, "severity") == "err");
  CHECK(field(t, "appname") == "sudo");
  CHECK(field(t, "sender") == "127.0.0.1");

  ReceivedEvent o = event_with(d, "o#0");
  CHECK(o.message.rfind("<78>1 ", 0) == 0);  // cron(9)*8 + info(6), octet-counted framing
  CHECK(field(o, "format") == "rfc5424");
  CHECK(field(o, "appname") == "cron");

  CHECK(metric_reaches(d, "assas_syslog_messages_total{collector=\"net\",transport=\"udp\"}", 1));
  CHECK(metric_reaches(d, "assas_syslog_messages_total{collector=\"net\",transport=\"tcp\"}", 2));
}

TEST_CASE("syslog: a flood of 100000 messages over TCP from logger arrives complete",
          "[integration][syslog]") {
  Deployment d;
  d.set_collectors(syslog_collector("    tcp: { listen: [\"127.0.0.1:0\"] }\n"));
  d.start_ingest();
  d.start_agent(kPipeline);
  int tcp = syslog_port(d, "tcp");
  const int n = 100000;
  std::string lines = write_message_file(d, "flood.txt", "f", n);
  auto started = std::chrono::steady_clock::now();
  REQUIRE(run_logger(d, tcp, {"--tcp", "--octet-count", "--rfc5424", "-t", "flood", "-f", lines}) ==
          0);
  require_exactly_once(d, ids_of("f", n), 120s);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  WARN("100000 messages over TCP stored in " << took.count() << " ms");
}

TEST_CASE("syslog: TCP senders wait while the pipeline is paused and lose nothing",
          "[integration][syslog]") {
  // No receiver at first and a disk buffer of 1 MiB: the buffer fills, the agent stops reading the
  // connection, and logger blocks in write(). Once the receiver starts, everything arrives.
  Deployment d;
  d.set_collectors(syslog_collector("    tcp: { listen: [\"127.0.0.1:0\"] }\n"));
  d.start_ingest();  // once, for its port; down while the buffer fills
  d.ingest().terminate(5s);
  d.start_agent("buffer: { max_size: 1MiB, segment_size: 256KiB }\n" + kPipeline);
  int tcp = syslog_port(d, "tcp");
  // About 20 MB of incompressible messages: far more than the disk buffer holds, and more than
  // the two sockets' kernel buffers take between them (the agent's receive buffer grows while it
  // reads, to a few MiB before the pause; logger's send buffer to tcp_wmem's 4 MiB), so that
  // logger itself must wait. With 7 MB, logger sometimes finished while the agent was paused, its
  // last messages all in kernel buffers.
  const int n = 100000;
  std::string lines = write_message_file(d, "held.txt", "h", n, true);
  ProcessGuard logger;
  logger.start({"/usr/bin/logger", "--server", "127.0.0.1", "--port", std::to_string(tcp), "--tcp",
                "--octet-count", "--rfc5424", "-t", "held", "-f", lines},
               {}, d.root() + "/logger.log");
  REQUIRE(wait_for([&] { return d.metric("assas_reading_paused") == 1; }, 60s));
  std::this_thread::sleep_for(1s);
  CHECK(logger.is_running());  // pushed back, not dropped
  d.start_ingest();
  require_exactly_once(d, ids_of("h", n), 120s);
  CHECK(logger.wait_exit(30s) == 0);
}

TEST_CASE("syslog: messages taken before a stop are shipped after the restart",
          "[integration][syslog]") {
  // Once the collector has handed a message to the pipeline it has the file lines' guarantee: the
  // stop makes it durable in the disk buffer, and the next start ships it.
  Deployment d;
  d.set_collectors(syslog_collector("    tcp: { listen: [\"127.0.0.1:0\"] }\n"));
  d.start_ingest();  // once, for its port; down until after the restart
  d.ingest().terminate(5s);
  d.start_agent(kPipeline);
  int tcp = syslog_port(d, "tcp");
  const int n = 5000;
  std::string lines = write_message_file(d, "before-stop.txt", "b", n);
  REQUIRE(run_logger(d, tcp, {"--tcp", "--octet-count", "-f", lines}) == 0);
  REQUIRE(metric_reaches(d, "assas_syslog_messages_total{collector=\"net\",transport=\"tcp\"}", n));
  CHECK(d.agent().terminate(20s) == 0);
  d.start_agent(kPipeline);
  d.start_ingest();
  require_exactly_once(d, ids_of("b", n), 60s);
}

TEST_CASE("syslog: rsyslogd forwards over UDP and over TCP with both framings",
          "[integration][syslog]") {
  Deployment d;
  // The smallest UDP receive buffer, so that rsyslogd's burst overflows it and the kernel's drops
  // must be counted.
  d.set_collectors(
      syslog_collector("    udp: { listen: [\"127.0.0.1:0\"], receive_buffer: 64KiB }\n"
                       "    tcp: { listen: [\"127.0.0.1:0\"] }\n"));
  d.start_ingest();
  d.start_agent(kPipeline);
  int udp = syslog_port(d, "udp");
  int tcp = syslog_port(d, "tcp");
  const int n = 2000;  // per TCP framing
  std::string a = write_message_file(d, "a.txt", "ra", n);
  std::string b = write_message_file(d, "b.txt", "rb", n);
  const int n_udp = 3000;
  std::string c = write_message_file(d, "c.txt", "rc", n_udp);
  RsyslogForwarder octets(d, "rsyslog-octets", a, "fwd-a",
                          "target=\"127.0.0.1\" port=\"" + std::to_string(tcp) +
                              "\" protocol=\"tcp\" tcp_framing=\"octet-counted\" "
                              "template=\"RSYSLOG_SyslogProtocol23Format\"");
  RsyslogForwarder lines(d, "rsyslog-lines", b, "fwd-b",
                         "target=\"127.0.0.1\" port=\"" + std::to_string(tcp) +
                             "\" protocol=\"tcp\" template=\"RSYSLOG_ForwardFormat\"");
  std::vector<std::string> expected = ids_of("ra", n);
  std::vector<std::string> rb = ids_of("rb", n);
  expected.insert(expected.end(), rb.begin(), rb.end());
  require_exactly_once(d, expected, 120s);
  // UDP cannot wait: whatever the kernel dropped is counted, and the rest arrives once each.
  RsyslogForwarder datagrams(
      d, "rsyslog-udp", c, "fwd-c",
      "target=\"127.0.0.1\" port=\"" + std::to_string(udp) + "\" protocol=\"udp\"");
  std::string kernel_drops =
      "assas_syslog_dropped_total{collector=\"net\",transport=\"udp\",reason=\"receive_buffer\"}";
  std::set<std::string> distinct;
  size_t total = 0;
  auto count_udp_ids = [&] {
    distinct.clear();
    total = 0;
    for (const std::string& id : received_ids(d.received())) {
      if (id.rfind("rc#", 0) == 0) {
        distinct.insert(id);
        ++total;
      }
    }
    return distinct.size() + static_cast<size_t>(d.metric(kernel_drops)) == n_udp;
  };
  REQUIRE(wait_for(count_udp_ids, 60s));
  CHECK(total == distinct.size());
  WARN("UDP from rsyslogd: " << d.metric(kernel_drops) << " of " << n_udp
                             << " dropped by the kernel (64 KiB receive buffer)");
  ReceivedEvent e = event_with(d, "ra#7");
  CHECK(field(e, "format") == "rfc5424");
  CHECK(field(e, "appname") == "fwd-a");
  ReceivedEvent f = event_with(d, "rb#7");
  CHECK(field(f, "format") == "rfc3164");
  CHECK(field(f, "appname") == "fwd-b");
  REQUIRE(!distinct.empty());
  CHECK(field(event_with(d, *distinct.begin()), "appname") == "fwd-c");
  CHECK(
      metric_reaches(d, "assas_syslog_parse_errors_total{collector=\"net\",transport=\"tcp\"}", 0));
}

TEST_CASE(
    "syslog: the TLS listener takes rsyslogd with a client certificate and refuses a client "
    "without one",
    "[integration][syslog][tls]") {
  Deployment d;
  TempDir scratch;
  TestPki pki = make_test_pki(scratch.file("pki"), "gw-07");
  d.set_collectors(
      syslog_collector("    tls:\n"
                       "      listen: [\"127.0.0.1:0\"]\n"
                       "      cert: " +
                       pki.server_cert() + "\n      key: " + pki.server_key() +
                       "\n      ca: " + pki.ca() + "\n      require_client_cert: true\n"));
  d.start_ingest();
  d.start_agent(kPipeline);
  int tls = syslog_port(d, "tls");
  const int n = 1000;
  std::string input = write_message_file(d, "tls.txt", "s", n);
  RsyslogForwarder forwarder(
      d, "rsyslog-tls", input, "fwd-tls",
      "target=\"127.0.0.1\" port=\"" + std::to_string(tls) +
          "\" protocol=\"tcp\" StreamDriver=\"ossl\" StreamDriverMode=\"1\" "
          "StreamDriverAuthMode=\"x509/name\" StreamDriverPermittedPeers=\"localhost\" "
          "StreamDriver.CAFile=\"" +
          pki.ca() + "\" StreamDriver.CertFile=\"" + pki.client_cert() +
          "\" StreamDriver.KeyFile=\"" + pki.client_key() + "\"");
  require_exactly_once(d, ids_of("s", n), 120s);
  ReceivedEvent e = event_with(d, "s#3");
  CHECK(e.source == "tls://127.0.0.1:0");
  CHECK(field(e, "tls_peer") == "gw-07");
  CHECK(field(e, "appname") == "fwd-tls");

  // openssl s_client offers no certificate: the handshake fails and nothing it sent is stored.
  ProcessGuard client;
  client.start({"/bin/sh", "-c",
                "printf '<13>1 - - - - - - x#1 no certificate\\n' | openssl s_client -quiet "
                "-connect 127.0.0.1:" +
                    std::to_string(tls) + " -CAfile " + pki.ca()},
               {}, d.root() + "/s_client.log");
  client.wait_exit(20s);
  REQUIRE(wait_for(
      [&] {
        return d.metric(
                   "assas_syslog_connections_refused_total{collector=\"net\",transport=\"tls\","
                   "reason=\"tls_handshake\"}") >= 1;
      },
      20s));
  std::this_thread::sleep_for(500ms);
  for (const ReceivedEvent& r : d.received()) {
    CHECK(r.message.find("x#1") == std::string::npos);
  }
}

TEST_CASE("syslog: a TLS listener without require_client_cert takes senders that have none",
          "[integration][syslog][tls]") {
  Deployment d;
  TempDir scratch;
  TestPki pki = make_test_pki(scratch.file("pki"), "gw-08");
  d.set_collectors(
      syslog_collector("    tls:\n"
                       "      listen: [\"127.0.0.1:0\"]\n"
                       "      cert: " +
                       pki.server_cert() + "\n      key: " + pki.server_key() + "\n"));
  d.start_ingest();
  d.start_agent(kPipeline);
  int tls = syslog_port(d, "tls");
  // openssl s_client verifies the listener against the CA and sends one octet-counted message
  // over TLS 1.2 (what most devices speak) and one over TLS 1.3, then closes at the end of its
  // input (close_notify right behind the message).
  for (const char* version : {"-tls1_2", "-tls1_3"}) {
    std::string id = std::string("y#") + version[6];  // "-tls1_2" → y#2
    std::string message = "<14>1 - dev - - - - " + id + " over " + version;
    ProcessGuard client;
    client.start({"/bin/sh", "-c",
                  "printf '%s' '" + std::to_string(message.size()) + " " + message +
                      "' | openssl s_client -brief -verify_return_error " + version +
                      " -connect 127.0.0.1:" + std::to_string(tls) + " -CAfile " + pki.ca()},
                 {}, d.root() + "/s_client.log");
    client.wait_exit(20s);
  }
  require_exactly_once(d, {"y#2", "y#3"}, 30s);
  ReceivedEvent e = event_with(d, "y#2");
  CHECK(e.source == "tls://127.0.0.1:0");
  CHECK(field(e, "tls_peer") == "<absent>");
  CHECK(field(e, "hostname") == "dev");
}

TEST_CASE("syslog: a TLS connection that never completes its handshake is closed and counted",
          "[integration][syslog][tls]") {
  Deployment d;
  TempDir scratch;
  TestPki pki = make_test_pki(scratch.file("pki"), "gw-09");
  d.set_collectors(
      syslog_collector("    handshake_timeout: 300ms\n"
                       "    tls:\n"
                       "      listen: [\"127.0.0.1:0\"]\n"
                       "      cert: " +
                       pki.server_cert() + "\n      key: " + pki.server_key() + "\n"));
  d.start_ingest();
  d.start_agent(kPipeline);
  int idle = connect_tcp(syslog_port(d, "tls"));  // connects, then says nothing (slowloris)
  CHECK(metric_reaches(d,
                       "assas_syslog_connections_refused_total{collector=\"net\",transport=\"tls\","
                       "reason=\"tls_handshake\"}",
                       1));
  CHECK(metric_reaches(d, "assas_syslog_connections{collector=\"net\",transport=\"tls\"}", 0));
  ::close(idle);
}

TEST_CASE("syslog: listeners on the IPv6 loopback take IPv6 senders that allow names",
          "[integration][syslog]") {
  Deployment d;
  d.set_collectors(
      syslog_collector("    udp: { listen: [\"[::1]:0\"] }\n"
                       "    tcp: { listen: [\"[::1]:0\"] }\n"
                       "    allow: [\"::1\"]\n"));
  d.start_ingest();
  d.start_agent(kPipeline);
  int udp = syslog_port(d, "udp", "[::1]:0");
  int tcp = syslog_port(d, "tcp", "[::1]:0");
  for (const auto& [port, args] :
       {std::pair<int, std::vector<std::string>>{udp, {"--udp", "vsix#0"}},
        {tcp, {"--tcp", "--octet-count", "vsix#1"}}}) {
    std::vector<std::string> argv = {"/usr/bin/logger", "--server",           "::1",
                                     "--port",          std::to_string(port), "--rfc5424"};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessGuard logger;
    logger.start(argv, {}, d.root() + "/logger.log");
    REQUIRE(logger.wait_exit(20s) == 0);
  }
  require_exactly_once(d, {"vsix#0", "vsix#1"}, 30s);
  CHECK(field(event_with(d, "vsix#0"), "sender") == "::1");
  CHECK(event_with(d, "vsix#1").source == "tcp://[::1]:0");
}

TEST_CASE("syslog: malformed and oversized messages are kept raw or cut and flagged",
          "[integration][syslog]") {
  Deployment d;
  d.set_collectors(syslog_collector(kUdpTcp + "    max_message_size: 1KiB\n"));
  d.start_ingest();
  d.start_agent(kPipeline);
  int udp = syslog_port(d, "udp");
  int tcp = syslog_port(d, "tcp");

  std::string big(5000, 'x');
  std::string counted = "<13>1 - - - - - - m#4";  // octet-counted, no newline after it
  std::string long_counted = "<13>1 - - - - - - m#8 ";
  long_counted += std::string(2000 - long_counted.size(), 'z');  // octet-counted, too long
  send_tcp(tcp,
           "no priority at all m#1\n"                                // not syslog: kept raw
           "<13>1 2026-11-29T10:00:00Z h a - - [unterminated m#2\n"  // bad structured data
           "<34>Oct 11 22:14:15 mymachine su: m#3 " +
               big + "\n" +  // too long: cut at 1 KiB
               std::to_string(counted.size()) + " " + counted +
               "<13>1 - - - - - - m#5 binary \x01\x02\xff\n" + "2000 " + long_counted);
  send_udp(udp, "<13>Nov 29 10:00:00 host app: m#6 " + std::string(3000, 'y'));
  send_udp(udp, std::string("\xff\xfe garbage m#7", 14));
  require_exactly_once(d, {"m#1", "m#2", "m#3", "m#4", "m#5", "m#6", "m#7", "m#8"}, 30s);

  ReceivedEvent m1 = event_with(d, "m#1");
  CHECK(m1.message == "no priority at all m#1");
  CHECK(field(m1, "parse_error") != "<absent>");
  CHECK(field(event_with(d, "m#2"), "parse_error") != "<absent>");
  ReceivedEvent m3 = event_with(d, "m#3");
  CHECK(m3.message.size() == 1024);
  CHECK(field(m3, "truncated") == "true");
  CHECK(field(m3, "truncated_from") == "<absent>");  // newline framing: cut before its end came
  CHECK(field(m3, "appname") == "su");
  CHECK(event_with(d, "m#4").message == counted);
  CHECK(event_with(d, "m#5").message == "<13>1 - - - - - - m#5 binary \x01\x02\xff");
  ReceivedEvent m6 = event_with(d, "m#6");
  CHECK(m6.message.size() == 1024);
  CHECK(field(m6, "truncated") == "true");
  CHECK(field(m6, "truncated_from") == std::to_string(34 + 3000));
  CHECK(field(event_with(d, "m#7"), "parse_error") != "<absent>");
  ReceivedEvent m8 = event_with(d, "m#8");
  CHECK(m8.message == long_counted.substr(0, 1024));
  CHECK(field(m8, "truncated_from") == "2000");
  CHECK(metric_reaches(d, "assas_syslog_truncated_total{collector=\"net\",transport=\"tcp\"}", 2));
  CHECK(metric_reaches(d, "assas_syslog_truncated_total{collector=\"net\",transport=\"udp\"}", 1));
  CHECK(
      metric_reaches(d, "assas_syslog_parse_errors_total{collector=\"net\",transport=\"tcp\"}", 2));
}

TEST_CASE("syslog: senders outside allow and over the rate limit are counted",
          "[integration][syslog]") {
  SECTION("not allowed") {
    Deployment d;
    d.set_collectors(syslog_collector(kUdpTcp + "    allow: [\"10.0.0.0/8\", \"::1\"]\n"));
    d.start_ingest();
    d.start_agent(kPipeline);
    int udp = syslog_port(d, "udp");
    int tcp = syslog_port(d, "tcp");
    for (int i = 0; i < 10; ++i) {
      send_udp(udp, "<13>1 - - - - - - n#" + std::to_string(i));
    }
    send_tcp(tcp, "<13>1 - - - - - - n#100\n");
    REQUIRE(wait_for(
        [&] {
          return d.metric(
                     "assas_syslog_dropped_total{collector=\"net\",transport=\"udp\","
                     "reason=\"not_allowed\"}") == 10 &&
                 d.metric(
                     "assas_syslog_connections_refused_total{collector=\"net\",transport="
                     "\"tcp\",reason=\"not_allowed\"}") == 1;
        },
        20s));
    std::this_thread::sleep_for(300ms);
    CHECK(d.received().empty());
  }
  SECTION("max_connections") {
    Deployment d;
    d.set_collectors(syslog_collector(kUdpTcp + "    max_connections: 1\n"));
    d.start_ingest();
    d.start_agent(kPipeline);
    int tcp = syslog_port(d, "tcp");
    int held = connect_tcp(tcp);
    REQUIRE(metric_reaches(d, "assas_syslog_connections{collector=\"net\",transport=\"tcp\"}", 1));
    // The second connection is accepted and closed at once; what it sends is never read.
    int refused = connect_tcp(tcp);
    std::string lost = "<13>1 - - - - - - k#1\n";
    ssize_t ignored = ::write(refused, lost.data(), lost.size());  // may fail: it is refused
    (void)ignored;
    CHECK(metric_reaches(d,
                         "assas_syslog_connections_refused_total{collector=\"net\",transport="
                         "\"tcp\",reason=\"too_many_connections\"}",
                         1));
    ::close(refused);
    std::string message = "<13>1 - - - - - - k#0\n";
    CHECK(::write(held, message.data(), message.size()) == static_cast<ssize_t>(message.size()));
    ::close(held);
    require_exactly_once(d, {"k#0"}, 20s);
  }
  SECTION("rate limit: UDP drops the excess and TCP waits") {
    Deployment d;
    d.set_collectors(
        syslog_collector(kUdpTcp + "    rate_limit: { messages_per_second: 200, burst: 100 }\n"));
    d.start_ingest();
    d.start_agent(kPipeline);
    int udp = syslog_port(d, "udp");
    int tcp = syslog_port(d, "tcp");
    const int n = 1000;
    for (int i = 0; i < n; ++i) {
      send_udp(udp, "<13>1 - - - - - - q#" + std::to_string(i));
      if (i % 50 == 49) {
        std::this_thread::sleep_for(5ms);  // about 10,000/s: within what loopback UDP carries
      }
    }
    std::string dropped_metric =
        "assas_syslog_dropped_total{collector=\"net\",transport=\"udp\",reason=\"rate_limit\"}";
    std::string kernel_metric =
        "assas_syslog_dropped_total{collector=\"net\",transport=\"udp\",reason=\"receive_buffer\"}";
    std::string taken_metric = "assas_syslog_messages_total{collector=\"net\",transport=\"udp\"}";
    // Every datagram is accounted for: taken, dropped by the rate limit, or dropped by the kernel.
    REQUIRE(wait_for(
        [&] {
          return d.metric(dropped_metric) + d.metric(kernel_metric) + d.metric(taken_metric) == n;
        },
        20s));
    double dropped = d.metric(dropped_metric);
    CHECK(dropped > 0);
    double taken = d.metric(taken_metric);
    REQUIRE(wait_for([&] { return d.received().size() == static_cast<size_t>(taken); }, 20s));
    // The q# that were taken; read before the TCP lines start arriving.
    std::vector<std::string> expected = received_ids(d.received());
    // TCP from the same sender: slowed to the rate, never dropped.
    std::string lines = write_message_file(d, "limited.txt", "w", 600);
    auto started = std::chrono::steady_clock::now();
    REQUIRE(run_logger(d, tcp, {"--tcp", "--octet-count", "-f", lines}) == 0);
    std::vector<std::string> w = ids_of("w", 600);
    expected.insert(expected.end(), w.begin(), w.end());
    require_exactly_once(d, expected, 60s);
    auto took = std::chrono::steady_clock::now() - started;
    CHECK(took >= 1s);  // 600 messages at 200/s with a fresh burst: not before 2.5 s, loosely
  }
}

}  // namespace assas::test
