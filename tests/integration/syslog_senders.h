#pragma once

// Senders for the syslog collector tests: the real clients (util-linux logger, rsyslogd from
// Debian) started as processes by their PID, and raw sockets for the bytes no real client sends
// (malformed and oversized messages). Everything talks to 127.0.0.1 only.

#include <chrono>
#include <string>
#include <vector>

#include "tests/integration/deployment.h"
#include "tests/support/process_guard.h"

namespace assas::test {

// The port an agent's syslog listener bound ("udp", "tcp" or "tls"), read from its log line
// "syslog listener ready ... transport=<t> address=<listen> port=<n>". Throws at the deadline.
int syslog_port(const Deployment& d, const std::string& transport,
                const std::string& listen = "127.0.0.1:0");

// Runs `logger --server 127.0.0.1 --port <port> <args...>` to its end (bounded); returns its exit
// code. Its output goes to <root>/logger.log.
int run_logger(const Deployment& d, int port, const std::vector<std::string>& args);

// Raw bytes to a TCP listener (one connection, closed after writing) or as one UDP datagram.
void send_tcp(int port, const std::string& bytes);
// A connected TCP socket to 127.0.0.1:port, held open by the caller (who closes it).
int connect_tcp(int port);
void send_udp(int port, const std::string& bytes);

// A file of n lines "<tag>#<i> <filler>" for `logger -f`, whose path it returns. With
// incompressible, the filler is 120 random characters, so that zstd cannot shrink the messages.
std::string write_message_file(const Deployment& d, const std::string& name, const std::string& tag,
                               int n, bool incompressible = false);
// The ids "<tag>#0" .. "<tag>#<n-1>".
std::vector<std::string> ids_of(const std::string& tag, int n);

// A real rsyslogd (Debian's) in the test's directory: it reads the lines of a file (imfile) and
// forwards them to the agent with `action` (an omfwd action body, e.g. target, port, protocol).
class RsyslogForwarder {
 public:
  RsyslogForwarder(const Deployment& d, const std::string& name, const std::string& input_file,
                   const std::string& tag, const std::string& action);
  ~RsyslogForwarder();
  RsyslogForwarder(const RsyslogForwarder&) = delete;
  RsyslogForwarder& operator=(const RsyslogForwarder&) = delete;
  std::string log() const;

 private:
  std::string dir_;
  ProcessGuard process_;
};

}  // namespace assas::test
