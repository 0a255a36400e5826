#pragma once

// Real syslog and RELP receivers for the tests of the agent's `syslog` and `relp` outputs:
// Debian's rsyslogd and syslog-ng, each started in the foreground as a child process (known by its
// PID, through ProcessGuard) from a private config in the test's directory, listening on 127.0.0.1
// only. The configs are the shipped examples in docs/outputs/, with only their paths, port and
// output file replaced (a missing token fails loudly), so the examples users copy are the ones
// tested. Each receiver writes every message as one JSON line, parsed by received().
//
// syslog-ng conflicts with rsyslog as a Debian package; scripts/fetch-syslog-ng.sh (run by
// scripts/install-deps.sh) unpacks it into syslog_ng_root() instead of installing it.

#include <chrono>
#include <string>
#include <vector>

#include <sys/types.h>

#include "tests/support/process_guard.h"

namespace assas::test {

// One message as the receiver wrote it: the RFC 5424 header fields as the receiver parsed them,
// the message, and the whole message as received. A field the message left empty (NILVALUE) is
// "-" from rsyslog and "" from syslog-ng, and syslog-ng puts the peer's address in a nil HOSTNAME.
struct ReceivedSyslog {
  std::string hostname, app_name, procid, msgid, structured_data, msg;
  std::string raw;
};

enum class ReceiverKind {
  kRsyslogRelp,     // rsyslog imrelp without TLS: docs/outputs/rsyslog-relp.conf, input replaced
  kRsyslogRelpTls,  // rsyslog imrelp in TLS: rsyslog-relp.conf
  kRsyslogTls,      // rsyslog imtcp, RFC 5425 (OpenSSL driver): rsyslog-tls.conf
  kRsyslogTcp,      // rsyslog imtcp, plain (RFC 6587): rsyslog-tls.conf, input replaced
  kRsyslogUdp,      // rsyslog imudp (RFC 5426): rsyslog-tls.conf, input replaced
  kSyslogNgTls,     // syslog-ng syslog() source, RFC 5425: syslog-ng-tls.conf
};

// "rsyslog-relp", "syslog-ng-tls", ...: for test output.
std::string to_string(ReceiverKind kind);

// The receiver's TLS files (e.g. TestPki's ca(), server_cert(), server_key()); required by the
// TLS kinds, ignored by the others. With require_client_cert, the receiver refuses a client
// without a certificate signed by ca (rsyslog: authMode certvalid; syslog-ng:
// peer-verify(required-trusted), as in the examples); without, it asks for none (rsyslog imrelp:
// no tls.authMode, imtcp: anon) or accepts a client without one (syslog-ng: optional-trusted). The
// server always presents cert.
struct ReceiverTls {
  std::string ca, cert, key;
  bool require_client_cert = false;
};

// Where scripts/fetch-syslog-ng.sh unpacks syslog-ng-core.
std::string syslog_ng_root();

// A port free on 127.0.0.1 for both TCP and UDP at the moment of the call (the kernel's pick for
// port 0), for peers that take only a fixed port, as rsyslog and syslog-ng do. Another process may
// take it before the peer binds it: retry with a new one on a bind failure, as SyslogReceiver does.
int pick_free_port();

// One receiver process. Not thread-safe; the test's thread only. The destructor stops it.
class SyslogReceiver {
 public:
  // Writes the config into dir (created if missing; give each receiver its own) and starts the
  // receiver on a free port, retrying on another port if it cannot bind; returns once it listens
  // (its PID holds the socket). Throws std::runtime_error, with the receiver's log, if it does not
  // listen within 20 s, or if the example config lacks a token to replace.
  SyslogReceiver(std::string dir, ReceiverKind kind, ReceiverTls tls = {});
  ~SyslogReceiver();
  SyslogReceiver(const SyslogReceiver&) = delete;
  SyslogReceiver& operator=(const SyslogReceiver&) = delete;

  ReceiverKind kind() const { return kind_; }
  int port() const { return port_; }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return process_.pid(); }
  bool is_running() { return process_.is_running(); }

  // SIGTERM by PID, at most 10 s for it to exit, then SIGKILL. A stopped receiver refuses
  // connections; what it acknowledged (RELP) or wrote stays in its file.
  void stop();
  // SIGKILL by PID, as a crash would.
  void crash();
  // stop() if running, then starts it again on the same port and waits until it listens.
  void restart();

  // Every complete line the receiver has written so far, parsed, in file order. Throws
  // std::runtime_error on a line it cannot parse.
  std::vector<ReceivedSyslog> received() const;
  // The number of complete lines written so far (cheaper than received().size()).
  size_t count() const;
  // Waits until count() >= n; false at the deadline.
  bool wait_for(size_t n, std::chrono::milliseconds deadline) const;

  // The receiver's stdout and stderr (its errors), for failure messages.
  std::string log() const;
  std::string config_path() const { return dir_ + "/receiver.conf"; }
  std::string output_path() const { return dir_ + "/received.jsonl"; }

 private:
  void start(bool same_port);
  std::string config(int port) const;
  std::vector<std::string> argv() const;

  std::string dir_;
  ReceiverKind kind_;
  ReceiverTls tls_;
  int port_ = 0;
  ProcessGuard process_;
  // count()'s progress through the output file.
  mutable size_t counted_bytes_ = 0;
  mutable size_t counted_lines_ = 0;
};

}  // namespace assas::test
