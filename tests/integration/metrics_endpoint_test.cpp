// The agent's HTTP endpoint (metrics.listen): real assas-agent and assas-ingest processes, raw
// TCP clients that send exactly the bytes of each case, hostile ones included. Every wait is
// bounded and every process is stopped by its PID (Deployment).

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <unistd.h>

#include "tests/integration/deployment.h"
#include "tests/integration/syslog_receivers.h"
#include "tests/support/binaries.h"
#include "tests/support/http_client.h"
#include "tests/support/wait_for.h"

namespace assas::test {
namespace {

using namespace std::chrono_literals;

std::string metrics_yaml(int port, const std::string& extra = "") {
  return "pipeline: { batch: { max_delay: 50ms } }\n"
         "metrics: { listen: \"127.0.0.1:" +
         std::to_string(port) + "\"" + extra + " }\n";
}

// The value of the sample that starts with prefix (name and labels as written); -1e18 if none.
double sample(const std::string& text, const std::string& prefix) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(prefix, 0) == 0 && line.size() > prefix.size() && line[prefix.size()] == ' ') {
      return std::strtod(line.c_str() + prefix.size() + 1, nullptr);
    }
  }
  return -1e18;
}

void write_lines(const Deployment& d, int count) {
  std::ofstream out(d.logs_dir() + "/app.log", std::ios::app);
  for (int i = 0; i < count; ++i) {
    out << "metrics line " << i << '\n';
  }
}

// The inodes of the sockets pid has open, from its /proc/<pid>/fd links ("socket:[12345]").
std::set<std::string> socket_inodes(int pid) {
  std::set<std::string> inodes;
  std::error_code error;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", error)) {
    std::string target = std::filesystem::read_symlink(entry.path(), error).string();
    if (!error && target.rfind("socket:[", 0) == 0) {
      inodes.insert(target.substr(8, target.size() - 9));
    }
  }
  return inodes;
}

// Listening TCP sockets (state 0A) of pid, as "local_address" fields of /proc/net/tcp{,6}.
std::vector<std::string> listening_sockets(int pid) {
  std::set<std::string> mine = socket_inodes(pid);
  std::vector<std::string> listening;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string sl, local, remote, state, queues, timer, retr, uid, timeout, inode;
      fields >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >>
          inode;
      if (state == "0A" && mine.count(inode) != 0) {
        listening.push_back(local);
      }
    }
  }
  return listening;
}

}  // namespace

TEST_CASE("the agent serves its metrics and health over HTTP on metrics.listen",
          "[integration][metrics]") {
  Deployment d;
  d.start_ingest();
  int port = pick_free_port();
  d.start_agent(metrics_yaml(port));
  write_lines(d, 500);
  REQUIRE(d.wait_for_events(500, 30s));

  // The acknowledgement of the last batch reaches the agent a moment after the receiver stored it.
  HttpReply metrics;
  REQUIRE(wait_for(
      [&] {
        metrics = http_get(port, "/metrics");
        return sample(metrics.body, "assas_output_events_acked_total{output=\"assas\"}") >= 500;
      },
      10s, 100ms));
  CHECK(metrics.status == 200);
  CHECK(metrics.head.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") !=
        std::string::npos);
  const std::string& m = metrics.body;
  CHECK(sample(m, "assas_events_total") == 500);
  CHECK(sample(m, "assas_collector_events_total{collector=\"logs\"}") == 500);
  // "metrics line N": 13 or 14 or 15 bytes each.
  CHECK(sample(m, "assas_collector_bytes_total{collector=\"logs\"}") > 500 * 13);
  CHECK(sample(m, "assas_output_bytes_sent_total{output=\"assas\"}") > 0);
  CHECK(sample(m, "assas_output_ack_latency_seconds_count{output=\"assas\"}") > 0);
  CHECK(sample(m, "assas_output_ack_latency_seconds_bucket{output=\"assas\",le=\"+Inf\"}") ==
        sample(m, "assas_output_ack_latency_seconds_count{output=\"assas\"}"));
  CHECK(m.find("# TYPE assas_output_ack_latency_seconds histogram\n") != std::string::npos);
  // The test PKI signs for two days.
  std::string cert_prefix =
      "assas_tls_certificate_expiry_seconds{owner=\"output:assas\",role=\"cert\"";
  size_t at = m.find(cert_prefix);
  REQUIRE(at != std::string::npos);
  double cert_left = std::strtod(m.c_str() + m.find("} ", at) + 2, nullptr);
  CHECK(cert_left > 2 * 86400 - 3600);
  CHECK(cert_left <= 2 * 86400);
  CHECK(m.find("assas_tls_certificate_expiry_seconds{owner=\"output:assas\",role=\"ca\"") !=
        std::string::npos);

  HttpReply health = http_get(port, "/health");
  CHECK(health.status == 200);
  CHECK(health.head.find("Content-Type: application/json\r\n") != std::string::npos);
  CHECK(health.body.rfind("{\"status\":\"ok\",\"reasons\":[]", 0) == 0);
  CHECK(health.body.find("{\"name\":\"assas\",\"connected\":true,\"seconds_without_session\":0}") !=
        std::string::npos);

  CHECK(http_exchange(port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n").status == 405);
  CHECK(http_get(port, "/nope").status == 404);
  CHECK(http_exchange(port,
                      "GET /metrics HTTP/1.1\r\nX-Pad: " + std::string(9 << 10, 'a') + "\r\n\r\n")
            .status == 431);
  CHECK(http_exchange(port, "\x16\x03\x01 garbage\r\n\r\n").status == 400);
  CHECK(d.agent_log().find("non-loopback") == std::string::npos);
}

TEST_CASE("health turns 503 and names the output once it has no session past output_down_after",
          "[integration][metrics]") {
  Deployment d;
  d.start_ingest();
  int port = pick_free_port();
  d.start_agent(metrics_yaml(port, ", health: { output_down_after: 1s }"));
  REQUIRE(wait_for([&] { return http_get(port, "/health").status == 200; }, 10s, 100ms));
  d.ingest().terminate(10s);
  HttpReply health;
  REQUIRE(wait_for(
      [&] {
        health = http_get(port, "/health");
        return health.status == 503;
      },
      15s, 200ms));
  CHECK(health.body.rfind("{\"status\":\"unhealthy\",\"reasons\":[\"output 'assas'", 0) == 0);
  CHECK(health.body.find("{\"name\":\"assas\",\"connected\":false") != std::string::npos);
  // Back once the receiver is.
  d.start_ingest();
  CHECK(wait_for([&] { return http_get(port, "/health").status == 200; }, 15s, 200ms));
}

TEST_CASE("idle clients are closed after 5 s and clients over 16 at once",
          "[integration][metrics]") {
  Deployment d;
  d.start_ingest();
  int port = pick_free_port();
  d.start_agent(metrics_yaml(port));
  REQUIRE(wait_for([&] { return http_get(port, "/health").status == 200; }, 10s, 100ms));

  auto start = std::chrono::steady_clock::now();
  std::vector<int> fds;
  for (int i = 0; i < 20; ++i) {
    fds.push_back(connect_local(port));
    REQUIRE(fds.back() >= 0);
    // One at a time, so that the first 16 are the ones accepted first.
    std::this_thread::sleep_for(10ms);
  }
  for (size_t i = 16; i < fds.size(); ++i) {
    INFO("connection " << i + 1);
    CHECK(wait_closed(fds[i], 1s));
  }
  CHECK_FALSE(wait_closed(fds[0], 500ms));  // the first ones wait for a head
  for (size_t i = 0; i < 16; ++i) {
    INFO("connection " << i + 1);
    CHECK(wait_closed(fds[i], 8s));
  }
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(took > 4s);
  CHECK(took < 9s);
  for (int fd : fds) {
    ::close(fd);
  }
  CHECK(http_get(port, "/metrics").status == 200);
}

TEST_CASE("a metrics.listen port in use fails the start naming the key and the address",
          "[integration][metrics]") {
  int blocker = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(blocker >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  REQUIRE(::bind(blocker, reinterpret_cast<sockaddr*>(&addr), len) == 0);
  REQUIRE(::listen(blocker, 1) == 0);
  REQUIRE(::getsockname(blocker, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  int port = ntohs(addr.sin_port);

  Deployment d;
  d.start_ingest();
  // Started here rather than by start_agent(), which reaps a process that exits at once and so
  // loses its exit code.
  ProcessGuard agent;
  std::string log_path = d.root() + "/failed-agent.log";
  agent.start({ASSAS_AGENT_BIN, "--config", d.write_agent_config(metrics_yaml(port))}, {},
              log_path);
  int code = agent.wait_exit(20s);
  CHECK(code != 0);
  CHECK(code != -1);  // it exited by itself
  std::ifstream in(log_path);
  std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  INFO(log);
  CHECK(log.find("metrics.listen") != std::string::npos);
  CHECK(log.find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
  ::close(blocker);
}

TEST_CASE("without metrics.listen the agent listens on no TCP port", "[integration][metrics]") {
  Deployment d;
  d.start_ingest();
  d.start_agent();
  write_lines(d, 10);
  REQUIRE(d.wait_for_events(10, 30s));
  std::vector<std::string> listening = listening_sockets(d.agent().pid());
  INFO("listening: " << listening.size());
  CHECK(listening.empty());
  // The same check sees the port once it is configured.
  Deployment with;
  with.start_ingest();
  int port = pick_free_port();
  with.start_agent(metrics_yaml(port));
  REQUIRE(wait_for([&] { return http_get(port, "/health").status != 0; }, 10s, 100ms));
  CHECK(listening_sockets(with.agent().pid()).size() == 1);
}

}  // namespace assas::test
