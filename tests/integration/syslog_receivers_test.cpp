// The receivers the syslog and RELP output tests run against (syslog_receivers.h), proven with
// real senders and without the agent: rsyslog's omrelp and omfwd (OpenSSL driver), util-linux
// logger, and openssl s_client for hand-made frames with every RFC 5424 field. Each receiver must
// take what a real peer sends and write it parsed; the RELP receiver must lose nothing it
// acknowledged when it is stopped or killed in the middle of a stream.

#include "tests/integration/syslog_receivers.h"

#include <chrono>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "tests/support/process_guard.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "tests/support/wait_for.h"

namespace assas::test {
namespace {

using namespace std::chrono_literals;

// A real rsyslogd (Debian's) that reads the lines of input (imfile, tag "sender") and sends them
// with action, an action(...) statement; modules are the module(load=...) lines it needs.
class RsyslogSender {
 public:
  RsyslogSender(const std::string& dir, const std::string& input, const std::string& modules,
                const std::string& action)
      : dir_(dir) {
    ::mkdir(dir_.c_str(), 0700);
    std::string conf = "global(workDirectory=\"" + dir_ + "\")\n" + "module(load=\"imfile\")\n" +
                       modules + "input(type=\"imfile\" file=\"" + input +
                       "\" tag=\"sender:\" freshStartTail=\"off\" ruleset=\"send\")\n"
                       "ruleset(name=\"send\") {\n  " +
                       action + "\n}\n";
    write_text_file(dir_ + "/rsyslog.conf", conf);
    process_.start(
        {"/usr/sbin/rsyslogd", "-n", "-f", dir_ + "/rsyslog.conf", "-i", dir_ + "/rsyslog.pid"}, {},
        dir_ + "/rsyslog.log");
  }
  ~RsyslogSender() { process_.terminate(10s); }
  RsyslogSender(const RsyslogSender&) = delete;
  RsyslogSender& operator=(const RsyslogSender&) = delete;
  std::string log() const { return read_text_file(dir_ + "/rsyslog.log"); }

 private:
  std::string dir_;
  ProcessGuard process_;
};

// n lines "<tag>#<i> user=operator action=login result=ok" in path.
void write_lines(const std::string& path, const std::string& tag, int n) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    text += tag + "#" + std::to_string(i) + " user=operator action=login result=ok\n";
  }
  write_text_file(path, text);
}

// The distinct "<tag>#<i>" ids at the start of the messages.
std::set<std::string> ids_in(const std::vector<ReceivedSyslog>& received) {
  std::set<std::string> ids;
  for (const ReceivedSyslog& r : received) {
    ids.insert(r.msg.substr(0, r.msg.find(' ')));
  }
  return ids;
}

std::set<std::string> expected_ids(const std::string& tag, int n) {
  std::set<std::string> ids;
  for (int i = 0; i < n; ++i) {
    ids.insert(tag + "#" + std::to_string(i));
  }
  return ids;
}

const std::string kOmrelpModule = "module(load=\"omrelp\" tls.tlsLib=\"openssl\")\n";

// omrelp to 127.0.0.1:port, retrying forever; in TLS with pki's client certificate, verifying
// the receiver's name, when pki is given. windowSize 1024 as the agent's default window (with
// omrelp's 128, rsyslog sends about 1,000 messages a second here).
std::string omrelp_action(int port, const TestPki* pki) {
  std::string action = "action(type=\"omrelp\" target=\"127.0.0.1\" port=\"" +
                       std::to_string(port) +
                       "\" template=\"RSYSLOG_SyslogProtocol23Format\" windowSize=\"1024\" "
                       "action.resumeRetryCount=\"-1\" action.resumeInterval=\"1\"";
  if (pki != nullptr) {
    action += " tls=\"on\" tls.caCert=\"" + pki->ca() + "\" tls.myCert=\"" + pki->client_cert() +
              "\" tls.myPrivKey=\"" + pki->client_key() +
              "\" tls.authMode=\"name\" tls.permittedPeer=\"localhost\"";
  }
  return action + ")";
}

// omfwd in TLS (OpenSSL driver, RFC 5425 framing) to 127.0.0.1:port, verifying the receiver's
// name; with pki's client certificate only when client_cert.
std::string omfwd_tls_action(int port, const TestPki& pki, bool client_cert) {
  std::string action =
      "action(type=\"omfwd\" target=\"127.0.0.1\" port=\"" + std::to_string(port) +
      "\" protocol=\"tcp\" tcp_framing=\"octet-counted\" "
      "template=\"RSYSLOG_SyslogProtocol23Format\" StreamDriver=\"ossl\" StreamDriverMode=\"1\" "
      "StreamDriverAuthMode=\"x509/name\" StreamDriverPermittedPeers=\"localhost\" "
      "StreamDriver.CAFile=\"" +
      pki.ca() + "\" action.resumeRetryCount=\"-1\" action.resumeInterval=\"1\"";
  if (client_cert) {
    action += " StreamDriver.CertFile=\"" + pki.client_cert() + "\" StreamDriver.KeyFile=\"" +
              pki.client_key() + "\"";
  }
  return action + ")";
}

// RFC 5425 / RFC 6587 octet counting.
std::string octet_frame(const std::string& message) {
  return std::to_string(message.size()) + " " + message;
}

std::string relp_frame(int txnr, const std::string& command, const std::string& data) {
  return std::to_string(txnr) + " " + command + " " + std::to_string(data.size()) +
         (data.empty() ? "" : " " + data) + "\n";
}

const std::string kRelpOpen =
    relp_frame(1, "open", "relp_version=0\nrelp_software=assas-test\ncommands=syslog");

// A whole RELP session as librelp's client opens it: open, one syslog command per message, close.
std::string relp_session(const std::vector<std::string>& messages) {
  std::string session = kRelpOpen;
  int txnr = 2;
  for (const std::string& m : messages) {
    session += relp_frame(txnr++, "syslog", m);
  }
  return session + relp_frame(txnr, "close", "");
}

// A plain TCP connection to 127.0.0.1:port that keeps what it received; closed by the destructor.
class Connection {
 public:
  explicit Connection(int port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
    }
  }
  ~Connection() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void send(const std::string& bytes) {
    if (::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(bytes.size())) {
      throw std::runtime_error("short send");
    }
  }
  // Reads until what was received holds text or deadline passes; returns whether it does.
  bool receive_until(const std::string& text, std::chrono::milliseconds deadline) {
    auto end = std::chrono::steady_clock::now() + deadline;
    while (received_.find(text) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        return false;
      }
      char buffer[4096];
      ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) {
        return false;
      }
      received_.append(buffer, static_cast<size_t>(n));
    }
    return true;
  }
  const std::string& received() const { return received_; }

 private:
  int fd_;
  std::string received_;
};

// One line from the FIFO at path, opened for reading now (which lets a blocked writer go on);
// "" at the deadline.
std::string read_line_from_fifo(const std::string& path, std::chrono::milliseconds deadline) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    throw std::runtime_error("cannot open the FIFO " + path);
  }
  std::string text;
  wait_for(
      [&] {
        char buffer[4096];
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n > 0) {
          text.append(buffer, static_cast<size_t>(n));
        }
        return text.find('\n') != std::string::npos;
      },
      deadline, std::chrono::milliseconds(10));
  ::close(fd);
  return text.substr(0, text.find('\n'));
}

// Sends bytes to 127.0.0.1:port with openssl s_client, verifying the receiver's certificate for
// localhost against pki's CA (as the agent does), with pki's client certificate when client_cert.
// With until_closed it waits for the receiver to close (after RELP's close, or after refusing the
// handshake: the TLS 1.3 client sends before the server has checked its certificate, so only then
// does s_client print the refusal); otherwise it closes after the bytes. Bounded; returns
// s_client's output.
std::string send_with_s_client(const std::string& dir, int port, const TestPki& pki,
                               bool client_cert, const std::string& bytes, bool until_closed) {
  static int n = 0;
  std::string name = dir + "/s_client-" + std::to_string(n++);
  write_text_file(name + ".in", bytes);
  std::string command =
      "exec /usr/bin/openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
      " -servername localhost -verify_hostname localhost -verify_return_error"
      " -CAfile '" +
      pki.ca() + "' -quiet";
  if (!until_closed) {
    command += " -no_ign_eof";
  }
  if (client_cert) {
    command += " -cert '" + pki.client_cert() + "' -key '" + pki.client_key() + "'";
  }
  command += " < '" + name + ".in'";
  ProcessGuard client;
  client.start({"/bin/sh", "-c", command}, {}, name + ".log");
  client.wait_exit(20s);
  return read_text_file(name + ".log");
}

// Runs util-linux logger against 127.0.0.1:port with RFC 5424 headers, app "app", PID 4242, MSGID
// ID47 and structured data [x@32473 k="v"]; extra are its transport options and the message.
int run_rfc5424_logger(const std::string& dir, int port, const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {"/usr/bin/logger",
                                   "--server",
                                   "127.0.0.1",
                                   "--port",
                                   std::to_string(port),
                                   "--rfc5424",
                                   "--tag",
                                   "app",
                                   "--id=4242",
                                   "--msgid",
                                   "ID47",
                                   "--sd-id",
                                   "x@32473",
                                   "--sd-param",
                                   "k=\"v\""};
  argv.insert(argv.end(), extra.begin(), extra.end());
  ProcessGuard logger;
  logger.start(argv, {}, dir + "/logger.log");
  return logger.wait_exit(30s);
}

std::string local_hostname() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

// Three messages made by hand: every header field set (two SD elements, quotes and a backslash in
// MSG), every field nil, and a 64 KiB MSG, the agent's default max_message_size (beyond the
// receivers' defaults: rsyslog 8 KiB, syslog-ng 64 KiB for the whole message; the examples raise
// them).
const std::string kFullMessage =
    "<134>1 2024-05-01T10:00:00.000001Z web-1 nginx 4242 ACCESS [assas@32473 collector=\"files\" "
    "source=\"/var/log/x.log\"][origin ip=\"10.0.0.1\"] full GET /index.html \"quoted\" \\ back";
const std::string kNilMessage = "<13>1 2024-05-01T10:00:01Z web-1 - - - - nil";
const std::string kLongMsg = "long " + std::string(65536 - 8, 'x') + "END";
const std::string kLongMessage = "<13>1 2024-05-01T10:00:02Z web-1 app - - - " + kLongMsg;

// Checks that receiver wrote the three messages above (and nothing else), parsed.
void check_hand_made_messages(const SyslogReceiver& receiver) {
  if (!receiver.wait_for(3, 20s)) {
    FAIL(receiver.count() << " lines of 3; " << to_string(receiver.kind()) << " log:\n"
                          << receiver.log());
  }
  std::vector<ReceivedSyslog> received = receiver.received();
  REQUIRE(received.size() == 3);
  // The receivers differ only in how they write a NILVALUE: rsyslog "-", syslog-ng "".
  std::string nil = receiver.kind() == ReceiverKind::kSyslogNgTls ? "" : "-";
  for (const ReceivedSyslog& r : received) {
    if (r.msg.rfind("full ", 0) == 0) {
      CHECK(r.hostname == "web-1");
      CHECK(r.app_name == "nginx");
      CHECK(r.procid == "4242");
      CHECK(r.msgid == "ACCESS");
      CHECK(r.structured_data ==
            "[assas@32473 collector=\"files\" source=\"/var/log/x.log\"][origin ip=\"10.0.0.1\"]");
      CHECK(r.msg == "full GET /index.html \"quoted\" \\ back");
      CHECK(r.raw == kFullMessage);
    } else if (r.msg == "nil") {
      CHECK(r.hostname == "web-1");
      CHECK(r.app_name == nil);
      CHECK(r.procid == nil);
      CHECK(r.msgid == nil);
      CHECK(r.structured_data == nil);
      CHECK(r.raw == kNilMessage);
    } else {
      CHECK(r.msg.size() == 65536);
      CHECK(r.msg == kLongMsg);
      CHECK(r.app_name == "app");
      CHECK(r.raw == kLongMessage);
    }
  }
}

}  // namespace

TEST_CASE("rsyslog RELP receiver writes every message of an rsyslog omrelp sender", "[receivers]") {
  TempDir tmp("assas-receivers");
  SyslogReceiver receiver(tmp.file("receiver"), ReceiverKind::kRsyslogRelp);
  write_lines(tmp.file("input.log"), "plain", 500);
  RsyslogSender sender(tmp.file("sender"), tmp.file("input.log"), kOmrelpModule,
                       omrelp_action(receiver.port(), nullptr));
  if (!receiver.wait_for(500, 30s)) {
    FAIL(receiver.count() << " lines of 500; receiver log:\n"
                          << receiver.log() << "\nsender log:\n"
                          << sender.log());
  }
  std::vector<ReceivedSyslog> received = receiver.received();
  CHECK(received.size() == 500);
  CHECK(ids_in(received) == expected_ids("plain", 500));
  CHECK(received[0].app_name == "sender");
  CHECK(received[0].msg == "plain#0 user=operator action=login result=ok");
  CHECK(received[0].raw.find(" sender - - - plain#0 ") != std::string::npos);
}

TEST_CASE(
    "rsyslog RELP over TLS receiver takes a client with a certificate and refuses one "
    "without",
    "[receivers]") {
  TempDir tmp("assas-receivers");
  TestPki pki = make_test_pki(tmp.file("pki"), "it-agent");
  SyslogReceiver receiver(tmp.file("receiver"), ReceiverKind::kRsyslogRelpTls,
                          {pki.ca(), pki.server_cert(), pki.server_key(), true});
  write_lines(tmp.file("input.log"), "tls", 300);
  RsyslogSender sender(tmp.file("sender"), tmp.file("input.log"), kOmrelpModule,
                       omrelp_action(receiver.port(), &pki));
  if (!receiver.wait_for(300, 30s)) {
    FAIL(receiver.count() << " lines of 300; receiver log:\n"
                          << receiver.log() << "\nsender log:\n"
                          << sender.log());
  }
  CHECK(ids_in(receiver.received()) == expected_ids("tls", 300));

  std::string refused = send_with_s_client(
      tmp.path(), receiver.port(), pki, false,
      relp_session({"<13>1 2024-05-01T10:00:00Z web-1 app - - - nocert#0"}), true);
  INFO("s_client without a certificate:\n" << refused);
  CHECK(refused.find("certificate required") != std::string::npos);
  send_with_s_client(tmp.path(), receiver.port(), pki, true,
                     relp_session({"<13>1 2024-05-01T10:00:00Z web-1 app - - - withcert#0"}), true);
  if (!receiver.wait_for(301, 20s)) {
    FAIL(receiver.count() << " lines of 301; receiver log:\n" << receiver.log());
  }
  std::set<std::string> ids = ids_in(receiver.received());
  CHECK(ids.count("withcert#0") == 1);
  CHECK(ids.count("nocert#0") == 0);
}

TEST_CASE("rsyslog RELP over TLS receiver without client certificates parses RFC 5424 fields",
          "[receivers]") {
  TempDir tmp("assas-receivers");
  TestPki pki = make_test_pki(tmp.file("pki"), "it-agent");
  SyslogReceiver receiver(tmp.file("receiver"), ReceiverKind::kRsyslogRelpTls,
                          {pki.ca(), pki.server_cert(), pki.server_key(), false});
  std::string answers =
      send_with_s_client(tmp.path(), receiver.port(), pki, false,
                         relp_session({kFullMessage, kNilMessage, kLongMessage}), true);
  INFO("s_client:\n" << answers);
  CHECK(answers.find("4 rsp 6 200 OK") != std::string::npos);
  check_hand_made_messages(receiver);
}

TEST_CASE(
    "rsyslog TLS receiver parses RFC 5425 frames and refuses a client without a "
    "certificate when it requires one",
    "[receivers]") {
  TempDir tmp("assas-receivers");
  TestPki pki = make_test_pki(tmp.file("pki"), "it-agent");
  SyslogReceiver receiver(tmp.file("receiver"), ReceiverKind::kRsyslogTls,
                          {pki.ca(), pki.server_cert(), pki.server_key(), true});
  std::string refused =
      send_with_s_client(tmp.path(), receiver.port(), pki, false,
                         octet_frame("<13>1 2024-05-01T10:00:00Z web-1 app - - - nocert#0"), true);
  send_with_s_client(
      tmp.path(), receiver.port(), pki, true,
      octet_frame(kFullMessage) + octet_frame(kNilMessage) + octet_frame(kLongMessage), false);
  INFO("s_client without a certificate:\n" << refused);
  CHECK(refused.find("certificate required") != std::string::npos);
  check_hand_made_messages(receiver);
}

TEST_CASE("rsyslog TLS receiver without client certificates takes an rsyslog omfwd sender",
          "[receivers]") {
  TempDir tmp("assas-receivers");
  TestPki pki = make_test_pki(tmp.file("pki"), "it-agent");
  SyslogReceiver receiver(tmp.file("receiver"), ReceiverKind::kRsyslogTls,
                          {pki.ca(), pki.server_cert(), pki.server_key(), false});
  write_lines(tmp.file("input.log"), "fwd", 300);
  RsyslogSender sender(tmp.file("sender"), tmp.file("input.log"), "",
                       omfwd_tls_action(receiver.port(), pki, false));
  if (!receiver.wait_for(300, 30s)) {
    FAIL(receiver.count() << " lines of 300; receiver log:\n"
                          << receiver.log() << "\nsender log:\n"
                          << sender.log());
  }
  std::vector<ReceivedSyslog> received = receiver.received();
  CHECK(ids_in(received) == expected_ids("fwd", 300));
  CHECK(received[0].app_name == "sender");
}

TEST_CASE("rsyslog TCP receiver takes logger with octet counting", "[receivers]") {
  TempDir tmp("assas-receivers");
  SyslogReceiver receiver(tmp.file("receiver"), ReceiverKind::kRsyslogTcp);
  write_lines(tmp.file("input.log"), "tcp", 100);
  REQUIRE(run_rfc5424_logger(tmp.path(), receiver.port(),
                             {"--tcp", "--octet-count", "-f", tmp.file("input.log")}) == 0);
  if (!receiver.wait_for(100, 20s)) {
    FAIL(receiver.count() << " lines of 100; receiver log:\n"
                          << receiver.log() << "\nlogger:\n"
                          << read_text_file(tmp.file("logger.log")));
  }
  std::vector<ReceivedSyslog> received = receiver.received();
  CHECK(ids_in(received) == expected_ids("tcp", 100));
  CHECK(received[0].hostname == local_hostname());
  CHECK(received[0].app_name == "app");
  CHECK(received[0].procid == "4242");
  CHECK(received[0].msgid == "ID47");
  CHECK(received[0].structured_data.find("[x@32473 k=\"v\"]") != std::string::npos);
}

TEST_CASE("rsyslog UDP receiver takes logger datagrams", "[receivers]") {
  TempDir tmp("assas-receivers");
  SyslogReceiver receiver(tmp.file("receiver"), ReceiverKind::kRsyslogUdp);
  REQUIRE(run_rfc5424_logger(tmp.path(), receiver.port(), {"--udp", "udp#0 over a datagram"}) == 0);
  if (!receiver.wait_for(1, 20s)) {
    FAIL(receiver.count() << " lines of 1; receiver log:\n"
                          << receiver.log() << "\nlogger:\n"
                          << read_text_file(tmp.file("logger.log")));
  }
  std::vector<ReceivedSyslog> received = receiver.received();
  REQUIRE(received.size() == 1);
  CHECK(received[0].msg == "udp#0 over a datagram");
  CHECK(received[0].app_name == "app");
  CHECK(received[0].procid == "4242");
  CHECK(received[0].msgid == "ID47");
  CHECK(received[0].structured_data.find("[x@32473 k=\"v\"]") != std::string::npos);
}

TEST_CASE(
    "syslog-ng TLS receiver parses RFC 5425 frames and refuses a client without a "
    "certificate when it requires one",
    "[receivers]") {
  TempDir tmp("assas-receivers");
  TestPki pki = make_test_pki(tmp.file("pki"), "it-agent");
  SyslogReceiver receiver(tmp.file("receiver"), ReceiverKind::kSyslogNgTls,
                          {pki.ca(), pki.server_cert(), pki.server_key(), true});
  std::string refused =
      send_with_s_client(tmp.path(), receiver.port(), pki, false,
                         octet_frame("<13>1 2024-05-01T10:00:00Z web-1 app - - - nocert#0"), true);
  send_with_s_client(
      tmp.path(), receiver.port(), pki, true,
      octet_frame(kFullMessage) + octet_frame(kNilMessage) + octet_frame(kLongMessage), false);
  INFO("s_client without a certificate:\n" << refused);
  CHECK(refused.find("certificate required") != std::string::npos);
  check_hand_made_messages(receiver);
}

TEST_CASE("syslog-ng TLS receiver without client certificates takes an rsyslog omfwd sender",
          "[receivers]") {
  TempDir tmp("assas-receivers");
  TestPki pki = make_test_pki(tmp.file("pki"), "it-agent");
  SyslogReceiver receiver(tmp.file("receiver"), ReceiverKind::kSyslogNgTls,
                          {pki.ca(), pki.server_cert(), pki.server_key(), false});
  write_lines(tmp.file("input.log"), "ng", 300);
  RsyslogSender sender(tmp.file("sender"), tmp.file("input.log"), "",
                       omfwd_tls_action(receiver.port(), pki, false));
  if (!receiver.wait_for(300, 30s)) {
    FAIL(receiver.count() << " lines of 300; receiver log:\n"
                          << receiver.log() << "\nsender log:\n"
                          << sender.log());
  }
  std::vector<ReceivedSyslog> received = receiver.received();
  CHECK(ids_in(received) == expected_ids("ng", 300));
  CHECK(received[0].app_name == "sender");
}

// The RELP receiver answers a message only once omfile has written it (the example's direct
// queue): its output here is a FIFO that nobody reads, so the write blocks, and the answer must
// wait until the test reads the line. (With rsyslog's default queue it answers at once.)
TEST_CASE("rsyslog RELP receiver answers a message only once it has written it", "[receivers]") {
  TempDir tmp("assas-receivers");
  SyslogReceiver receiver(tmp.file("receiver"), ReceiverKind::kRsyslogRelp);
  REQUIRE(::mkfifo(receiver.output_path().c_str(), 0600) == 0);
  Connection relp(receiver.port());
  relp.send(kRelpOpen);
  REQUIRE(relp.receive_until("1 rsp ", 10s));
  relp.send(relp_frame(2, "syslog", "<13>1 2024-05-01T10:00:00Z web-1 app - - - fifo#0"));
  bool answered_unwritten = relp.receive_until("2 rsp ", 2s);
  std::string line = read_line_from_fifo(receiver.output_path(), 10s);
  bool answered = relp.receive_until("2 rsp 6 200 OK", 10s);
  INFO("answers: " << relp.received() << "\nline: " << line << "\nreceiver log:\n"
                   << receiver.log());
  CHECK_FALSE(answered_unwritten);
  CHECK(line.find("fifo#0") != std::string::npos);
  CHECK(answered);
}

// The RELP receiver's promise: what it answered is written. Restarted (SIGTERM) or killed
// (SIGKILL) in the middle of a stream, with omrelp sending again what was not answered, every line
// arrives (some twice: sent again when the answer was lost with the connection).
TEST_CASE(
    "rsyslog RELP receiver stopped or killed under an omrelp stream of 20000 lines loses "
    "none",
    "[receivers]") {
  const bool crash = GENERATE(false, true);
  const int n = 20000;
  TempDir tmp("assas-receivers");
  TestPki pki = make_test_pki(tmp.file("pki"), "it-agent");
  SyslogReceiver receiver(tmp.file("receiver"), ReceiverKind::kRsyslogRelpTls,
                          {pki.ca(), pki.server_cert(), pki.server_key(), true});
  write_lines(tmp.file("input.log"), "stream", n);
  RsyslogSender sender(tmp.file("sender"), tmp.file("input.log"), kOmrelpModule,
                       omrelp_action(receiver.port(), &pki));
  auto logs = [&] {
    return std::string(crash ? "killed" : "stopped") + "; receiver log:\n" + receiver.log() +
           "\nsender log:\n" + sender.log();
  };
  // Down three times: at a quarter, half and three quarters of the stream.
  for (int quarter = 1; quarter <= 3; ++quarter) {
    size_t target = static_cast<size_t>(n) * static_cast<size_t>(quarter) / 4;
    if (!receiver.wait_for(target, 60s)) {
      FAIL(receiver.count() << " lines of " << target << "; " << logs());
    }
    if (crash) {
      receiver.crash();
    } else {
      receiver.stop();
    }
    REQUIRE_FALSE(receiver.is_running());
    // Otherwise the stream was over, and nothing was tested.
    REQUIRE(ids_in(receiver.received()).size() < static_cast<size_t>(n));
    receiver.restart();
  }
  if (!receiver.wait_for(n, 120s)) {
    FAIL(receiver.count() << " lines of " << n << "; " << logs());
  }
  std::set<std::string> expected = expected_ids("stream", n);
  std::set<std::string> ids;
  // Lines sent again after the restart may come before the last first-time ones.
  bool complete = wait_for(
      [&] {
        ids = ids_in(receiver.received());
        return ids == expected;
      },
      30s, 500ms);
  if (!complete) {
    FAIL("distinct lines " << ids.size() << " of " << n << ", lines " << receiver.count() << "; "
                           << logs());
  }
}

}  // namespace assas::test
