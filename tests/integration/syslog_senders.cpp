#include "tests/integration/syslog_senders.h"

#include <random>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <unistd.h>

#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace assas::test {

namespace {

using namespace std::chrono_literals;

sockaddr_in loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

}  // namespace

int syslog_port(const Deployment& d, const std::string& transport, const std::string& listen) {
  int port = wait_for_number_in_file(
      d.root() + "/agent.log", "transport=" + transport + " address=" + listen + " port=", 20s);
  if (port <= 0) {
    throw std::runtime_error("no " + transport + " syslog listener in the agent log:\n" +
                             d.agent_log());
  }
  return port;
}

int run_logger(const Deployment& d, int port, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/logger", "--server", "127.0.0.1", "--port",
                                   std::to_string(port)};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessGuard logger;
  logger.start(argv, {}, d.root() + "/logger.log");
  return logger.wait_exit(120s);
}

int connect_tcp(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = loopback(port);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) {
      ::close(fd);
    }
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
  }
  return fd;
}

void send_tcp(int port, const std::string& bytes) {
  int fd = connect_tcp(port);
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      break;
    }
    sent += static_cast<size_t>(n);
  }
  ::close(fd);
  if (sent != bytes.size()) {
    throw std::runtime_error("short send to 127.0.0.1:" + std::to_string(port));
  }
}

void send_udp(int port, const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = loopback(port);
  ssize_t n =
      ::sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::close(fd);
  if (n != static_cast<ssize_t>(bytes.size())) {
    throw std::runtime_error("cannot send a datagram to 127.0.0.1:" + std::to_string(port));
  }
}

std::string write_message_file(const Deployment& d, const std::string& name, const std::string& tag,
                               int n, bool incompressible) {
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";
  std::mt19937 random(42);
  std::string text;
  text.reserve(static_cast<size_t>(n) * (incompressible ? 140 : 48));
  for (int i = 0; i < n; ++i) {
    text += tag + "#" + std::to_string(i) + " user=operator action=login result=ok";
    if (incompressible) {
      text += " noise=";
      for (int k = 0; k < 120; ++k) {
        text += kAlphabet[random() % 64];
      }
    }
    text += '\n';
  }
  std::string path = d.root() + "/" + name;
  write_text_file(path, text);
  return path;
}

std::vector<std::string> ids_of(const std::string& tag, int n) {
  std::vector<std::string> ids;
  ids.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    ids.push_back(tag + "#" + std::to_string(i));
  }
  return ids;
}

RsyslogForwarder::RsyslogForwarder(const Deployment& d, const std::string& name,
                                   const std::string& input_file, const std::string& tag,
                                   const std::string& action)
    : dir_(d.root() + "/" + name) {
  ::mkdir(dir_.c_str(), 0700);
  // No imuxsock or imklog: this rsyslogd reads only the test's file, as an unprivileged process.
  std::string conf = "global(workDirectory=\"" + dir_ + "\")\n" +
                     "module(load=\"imfile\")\n"
                     "input(type=\"imfile\" file=\"" +
                     input_file + "\" tag=\"" + tag +
                     ":\" freshStartTail=\"off\" ruleset=\"fwd\")\n"
                     "ruleset(name=\"fwd\") { action(type=\"omfwd\" " +
                     action + ") }\n";
  write_text_file(dir_ + "/rsyslog.conf", conf);
  process_.start(
      {"/usr/sbin/rsyslogd", "-n", "-f", dir_ + "/rsyslog.conf", "-i", dir_ + "/rsyslog.pid"}, {},
      dir_ + "/rsyslog.log");
}

RsyslogForwarder::~RsyslogForwarder() {
  process_.terminate(5s);
}

std::string RsyslogForwarder::log() const {
  return read_text_file(dir_ + "/rsyslog.log");
}

}  // namespace assas::test
