// assas-agent as a service: SIGHUP reloads (collectors and outputs added, changed and removed keep
// their checkpoints and buffered lines; a bad config is rejected while the old one runs on;
// certificates are read again), SIGTERM stops gracefully with exit 0 and what was not shipped
// ships after the next start, and systemd's notify protocol (READY, RELOADING, STOPPING, the
// watchdog) reaches NOTIFY_SOCKET, for assas-ingest too. Real processes; the service manager is
// the only thing stood in for, by a datagram socket this test reads (no systemd runs here).

#include <csignal>
#include <filesystem>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <catch2/catch.hpp>
#include <unistd.h>

#include "tests/integration/deployment.h"
#include "tests/integration/log_writer.h"
#include "tests/support/binaries.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "tests/support/wait_for.h"

namespace assas::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

void send_signal(Deployment& d, int signum) {
  REQUIRE(d.agent().is_running());
  REQUIRE(::kill(d.agent().pid(), signum) == 0);
}

// Sends SIGHUP and waits for the agent to log the outcome `what` once more than before.
void reload(Deployment& d, const std::string& what) {
  size_t before = count_of(d.agent_log(), what);
  send_signal(d, SIGHUP);
  INFO(d.agent_log());
  REQUIRE(wait_for([&] { return count_of(d.agent_log(), what) > before; }, 30s));
}

std::string file_collector(const std::string& name, const std::string& glob,
                           const std::string& extra = "") {
  return "  - type: file\n"
         "    name: " +
         name +
         "\n"
         "    paths: [\"" +
         glob +
         "\"]\n"
         "    start_at: beginning\n"
         "    stat_interval: 100ms\n"
         "    rescan_interval: 200ms\n" +
         extra;
}

std::string output_to(Deployment& d, size_t receiver) {
  return "outputs:\n"
         "  - type: assas\n"
         "    name: soc\n"
         "    endpoints: [\"" +
         d.endpoint(receiver) +
         "\"]\n"
         "    backoff: { min: 50ms, max: 500ms }\n" +
         d.output_tls_yaml();
}

// Waits until the checkpoint file covers all of path: every line in it is durable in the buffer.
void wait_buffered(Deployment& d, const std::string& path) {
  auto size = static_cast<int64_t>(fs::file_size(path));
  REQUIRE(wait_for([&] { return checkpointed_offset(d.agent_data_dir() + "/checkpoints") == size; },
                   30s));
}

// The service manager's end of sd_notify: a datagram socket at a path, read with bounded waits.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof addr.sun_path);
    path.copy(addr.sun_path, path.size());
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    timeval timeout{0, 100000};
    REQUIRE(::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) == 0);
  }
  ~NotifySocket() { ::close(fd_); }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  // Reads messages until one contains `what`; false at the deadline. Every message read is kept.
  bool wait_for_message(const std::string& what, std::chrono::milliseconds deadline) {
    auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
      char buffer[4096];
      ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n > 0) {
        messages_.emplace_back(buffer, static_cast<size_t>(n));
        if (messages_.back().find(what) != std::string::npos) {
          return true;
        }
      }
    }
    return false;
  }
  std::string all() const {
    std::string text;
    for (const std::string& m : messages_) {
      text += "[" + m + "] ";
    }
    return text;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::vector<std::string> messages_;
};

}  // namespace

TEST_CASE(
    "reload: collectors and outputs added changed and removed keep their checkpoints and "
    "buffered lines",
    "[integration][service]") {
  Deployment d;
  fs::create_directories(d.root() + "/more");
  d.start_ingest(0);
  d.start_ingest(1);
  d.set_collectors(file_collector("logs", d.logs_dir() + "/*.log"));
  d.set_outputs(output_to(d, 0));
  d.start_agent();
  const std::string app = d.logs_dir() + "/app.log";
  LogWriter a(app, "a");
  a.write(500);
  require_exactly_once(d, a.ids(), 60s);

  // Receiver 0 goes away: what is read now waits in the buffer.
  REQUIRE(d.ingest(0).terminate(10s) == 0);
  LogWriter b(app, "b");
  b.write(500);
  wait_buffered(d, app);

  // Changed collector (a new field), added collector, output moved to receiver 1.
  d.set_collectors(file_collector("logs", d.logs_dir() + "/*.log", "    fields: { phase: two }\n") +
                   file_collector("more", d.root() + "/more/*.log"));
  d.set_outputs(output_to(d, 1));
  d.write_agent_config();
  pid_t pid = d.agent().pid();
  reload(d, "config reloaded");
  LogWriter c(app, "c");
  c.write(500);
  LogWriter m(d.root() + "/more/m.log", "m");
  m.write(300);
  require_exactly_once(d, all_ids({&a, &b, &c, &m}), 60s);
  REQUIRE(d.agent().pid() == pid);  // the same process throughout
  size_t with_field = 0;
  for (const ReceivedEvent& event : d.received()) {
    auto phase = event.fields.find("phase");
    if (event.message.rfind("c#", 0) == 0 && phase != event.fields.end() &&
        phase->second == "two") {
      ++with_field;
    }
  }
  CHECK(with_field == 500);  // every line read after the reload has the new field

  // Removed collector: its file is not read any more.
  d.set_collectors(file_collector("logs", d.logs_dir() + "/*.log"));
  d.write_agent_config();
  reload(d, "config reloaded");
  LogWriter n(d.root() + "/more/m.log", "n");
  n.write(100);
  LogWriter e(app, "e");
  e.write(100);
  // Every id once, and nothing else: an n# that arrived would fail it as unexpected.
  std::this_thread::sleep_for(1s);
  require_exactly_once(d, all_ids({&a, &b, &c, &m, &e}), 60s);
  REQUIRE(d.agent().terminate(20s) == 0);
}

TEST_CASE(
    "reload: a config that is invalid or names a missing file is rejected and the old one runs on",
    "[integration][service]") {
  Deployment d;
  d.start_ingest();
  d.start_agent();
  const std::string config = d.write_agent_config();
  const std::string good = read_text_file(config);

  write_text_file(config, "agent: [\n");
  reload(d, "config reload rejected");
  CHECK(d.agent_log().find(config) != std::string::npos);  // the error names the file

  std::string missing_cert = good;
  std::string pki = d.root() + "/pki/agent.pem";
  missing_cert.replace(missing_cert.find(pki), pki.size(), d.root() + "/nowhere/agent.pem");
  write_text_file(config, missing_cert);
  reload(d, "config reload rejected");
  CHECK(d.agent_log().find(d.root() + "/nowhere/agent.pem") != std::string::npos);

  std::string moved = good;
  std::string data = d.agent_data_dir();
  moved.replace(moved.find(data), data.size(), d.root() + "/elsewhere");
  write_text_file(config, moved);
  reload(d, "config reload rejected");
  CHECK(d.agent_log().find("agent.data_dir cannot change on a reload") != std::string::npos);

  // Still the old config, still shipping.
  CHECK(d.agent_log().find("config reloaded") == std::string::npos);
  LogWriter a(d.logs_dir() + "/app.log", "a");
  a.write(300);
  require_exactly_once(d, a.ids(), 60s);
  REQUIRE(d.agent().terminate(20s) == 0);
}

TEST_CASE("reload: a new config that cannot start brings the previous one back",
          "[integration][service]") {
  // A TCP port held by this test: the new config's syslog listener cannot bind it. Only a start
  // finds that out, not the check.
  int holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(holder >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  REQUIRE(::bind(holder, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(holder, 1) == 0);
  REQUIRE(::getsockname(holder, reinterpret_cast<sockaddr*>(&addr), &length) == 0);
  int port = ntohs(addr.sin_port);

  Deployment d;
  d.start_ingest();
  d.set_collectors(file_collector("logs", d.logs_dir() + "/*.log"));
  d.start_agent();
  const std::string app = d.logs_dir() + "/app.log";
  LogWriter a(app, "a");
  a.write(200);
  require_exactly_once(d, a.ids(), 60s);

  d.set_collectors(file_collector("logs", d.logs_dir() + "/*.log") +
                   "  - type: syslog\n"
                   "    name: net\n"
                   "    tcp: { listen: [\"127.0.0.1:" +
                   std::to_string(port) + "\"] }\n");
  d.write_agent_config();
  reload(d, "the previous config runs again");
  CHECK(d.agent_log().find("the reloaded config did not start") != std::string::npos);
  LogWriter b(app, "b");
  b.write(200);
  require_exactly_once(d, all_ids({&a, &b}), 60s);
  REQUIRE(d.agent().terminate(20s) == 0);
  ::close(holder);
}

TEST_CASE("reload: certificate and key files are read again so a rotated certificate is used",
          "[integration][service]") {
  Deployment d("it-agent");
  d.start_ingest();
  d.start_agent();
  LogWriter a(d.logs_dir() + "/app.log", "a");
  a.write(100);
  require_exactly_once(d, a.ids(), 60s);

  // The rotation: new files in place of the old ones, as certbot or a SOC's PKI agent writes them.
  // A certificate of another name makes the receiver file what follows under that name, which is
  // how this test sees which certificate the agent presents.
  TestPki pki{d.root() + "/pki"};
  make_test_client_cert(pki, "rotated");
  fs::copy_file(pki.client_cert("rotated"), pki.client_cert(),
                fs::copy_options::overwrite_existing);
  fs::copy_file(pki.client_key("rotated"), pki.client_key(), fs::copy_options::overwrite_existing);
  CHECK(d.ingest_log().find("agent connected agent=rotated") == std::string::npos);
  pid_t pid = d.agent().pid();
  reload(d, "config reloaded");
  INFO(d.ingest_log());
  REQUIRE(wait_for(
      [&] { return d.ingest_log().find("agent connected agent=rotated") != std::string::npos; },
      30s));
  REQUIRE(d.agent().pid() == pid);
  REQUIRE(d.agent().terminate(20s) == 0);
}

// Exit code 0 also says it finished within agent.stop_timeout: past it the agent exits 1.
TEST_CASE("SIGTERM with the receiver down exits 0 and what was not shipped ships after the restart",
          "[integration][service]") {
  Deployment d;
  d.start_ingest();
  d.start_agent();
  const std::string app = d.logs_dir() + "/app.log";
  LogWriter a(app, "a");
  a.write(300);
  require_exactly_once(d, a.ids(), 60s);
  REQUIRE(d.ingest().terminate(10s) == 0);
  LogWriter b(app, "b");
  b.write(3000);
  wait_buffered(d, app);
  REQUIRE(d.agent().terminate(30s) == 0);
  std::string log = d.agent_log();
  CHECK(log.find("stopping: flushing batches into the buffer and writing checkpoints") !=
        std::string::npos);
  CHECK(log.find("stopped events=") != std::string::npos);
  CHECK(log.find("stop did not finish in time") == std::string::npos);
  // The agent's own log never carries what it ships (at the default level, info).
  CHECK(log.find("a#1 ") == std::string::npos);
  CHECK(log.find("b#2999") == std::string::npos);

  d.start_ingest();
  d.start_agent();
  require_exactly_once(d, all_ids({&a, &b}), 60s);
  REQUIRE(d.agent().terminate(20s) == 0);
}

TEST_CASE("sd_notify: READY RELOADING STOPPING and the watchdog reach NOTIFY_SOCKET",
          "[integration][service]") {
  SECTION("assas-agent") {
    Deployment d;
    NotifySocket systemd(d.root() + "/notify.sock");
    d.start_ingest();
    d.start_agent("", {{"NOTIFY_SOCKET", d.root() + "/notify.sock"}, {"WATCHDOG_USEC", "400000"}});
    INFO(systemd.all());
    REQUIRE(systemd.wait_for_message("READY=1", 20s));
    REQUIRE(systemd.wait_for_message("WATCHDOG=1", 5s));  // every 200 ms
    REQUIRE(systemd.wait_for_message("WATCHDOG=1", 5s));
    send_signal(d, SIGHUP);
    REQUIRE(systemd.wait_for_message("RELOADING=1", 20s));
    REQUIRE(systemd.wait_for_message("READY=1", 20s));
    send_signal(d, SIGTERM);
    REQUIRE(systemd.wait_for_message("STOPPING=1", 20s));
    REQUIRE(d.agent().wait_exit(30s) == 0);
  }
  SECTION("assas-ingest") {
    Deployment d;
    NotifySocket systemd(d.root() + "/notify.sock");
    d.start_ingest();  // writes its config
    REQUIRE(d.ingest().terminate(10s) == 0);
    ProcessGuard ingest;
    ingest.start({ASSAS_INGEST_BIN, "--config", d.ingest_config()},
                 {{"NOTIFY_SOCKET", d.root() + "/notify.sock"}, {"WATCHDOG_USEC", "400000"}},
                 d.root() + "/ingest-notify.log");
    INFO(systemd.all() << "\n" << read_text_file(d.root() + "/ingest-notify.log"));
    REQUIRE(systemd.wait_for_message("READY=1", 20s));
    REQUIRE(systemd.wait_for_message("WATCHDOG=1", 5s));
    REQUIRE(::kill(ingest.pid(), SIGHUP) == 0);  // answered, not fatal
    REQUIRE(wait_for(
        [&] {
          return read_text_file(d.root() + "/ingest-notify.log").find("SIGHUP ignored") !=
                 std::string::npos;
        },
        10s));
    REQUIRE(ingest.is_running());
    REQUIRE(ingest.terminate(20s) == 0);
    REQUIRE(systemd.wait_for_message("STOPPING=1", 5s));
  }
}

}  // namespace assas::test
