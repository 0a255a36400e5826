#include "tests/integration/syslog_receivers.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <map>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <glob.h>
#include <unistd.h>

#include "tests/support/jsonl_reader.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace assas::test {

namespace {

using namespace std::chrono_literals;

constexpr char kSyslogNgRoot[] = "/var/cache/assas-test-peers/syslog-ng";

// The example configs' tokens (docs/outputs/*.conf) that the tests replace.
constexpr char kExampleCa[] = "/etc/ssl/soc/ca.pem";
constexpr char kExampleCert[] = "/etc/ssl/soc/server.pem";
constexpr char kExampleKey[] = "/etc/ssl/soc/server.key";

bool is_tls(ReceiverKind kind) {
  return kind == ReceiverKind::kRsyslogRelpTls || kind == ReceiverKind::kRsyslogTls ||
         kind == ReceiverKind::kSyslogNgTls;
}

bool is_udp(ReceiverKind kind) {
  return kind == ReceiverKind::kRsyslogUdp;
}

std::string example_name(ReceiverKind kind) {
  switch (kind) {
    case ReceiverKind::kRsyslogRelp:
    case ReceiverKind::kRsyslogRelpTls:
      return "rsyslog-relp.conf";
    case ReceiverKind::kRsyslogTls:
    case ReceiverKind::kRsyslogTcp:
    case ReceiverKind::kRsyslogUdp:
      return "rsyslog-tls.conf";
    case ReceiverKind::kSyslogNgTls:
      return "syslog-ng-tls.conf";
  }
  return "";
}

// A config being made from an example: every replacement must find its token, so that an edit of
// the example that the tests do not follow fails here, not as a receiver that silently differs.
class Example {
 public:
  explicit Example(std::string name) : name_(std::move(name)) {
    text_ = read_text_file(std::string(ASSAS_SOURCE_DIR) + "/docs/outputs/" + name_);
    if (text_.empty()) {
      throw std::runtime_error("docs/outputs/" + name_ + " is missing or empty");
    }
  }

  // Replaces every occurrence of token.
  void replace(const std::string& token, const std::string& by) {
    size_t at = text_.find(token);
    if (at == std::string::npos) {
      throw std::runtime_error("docs/outputs/" + name_ + " no longer holds '" + token +
                               "', which the tests replace; update syslog_receivers.cpp");
    }
    for (; at != std::string::npos; at = text_.find(token, at + by.size())) {
      text_.replace(at, token.size(), by);
    }
  }

  // The statement that starts with head ("input(type=\"imtcp\""), up to its closing parenthesis.
  std::string statement(const std::string& head) const {
    auto [start, end] = find_statement(head);
    return text_.substr(start, end - start);
  }

  // Replaces that whole statement.
  void replace_statement(const std::string& head, const std::string& by) {
    auto [start, end] = find_statement(head);
    text_.replace(start, end - start, by);
  }

  const std::string& text() const { return text_; }

 private:
  std::pair<size_t, size_t> find_statement(const std::string& head) const {
    // The statement, not a mention of it in a comment: only blanks before it on its line.
    size_t start = text_.find(head);
    while (start != std::string::npos) {
      size_t line = text_.rfind('\n', start);
      line = line == std::string::npos ? 0 : line + 1;
      if (text_.find_first_not_of(" \t", line) == start) {
        break;
      }
      start = text_.find(head, start + 1);
    }
    if (start == std::string::npos) {
      throw std::runtime_error("docs/outputs/" + name_ + " has no statement '" + head +
                               "', which the tests replace; update syslog_receivers.cpp");
    }
    int depth = 0;
    bool quoted = false;
    for (size_t i = start; i < text_.size(); ++i) {
      char c = text_[i];
      if (quoted) {
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          quoted = false;
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == '(') {
        ++depth;
      } else if (c == ')' && --depth == 0) {
        return {start, i + 1};
      }
    }
    throw std::runtime_error("docs/outputs/" + name_ + ": '" + head + "' is not closed");
  }

  std::string name_;
  std::string text_;
};

// The value of name="value" in an rsyslog statement.
std::string attribute(const std::string& statement, const std::string& name) {
  std::string key = name + "=\"";
  size_t at = statement.find(key);
  if (at == std::string::npos) {
    throw std::runtime_error("no " + name + " in " + statement);
  }
  at += key.size();
  return statement.substr(at, statement.find('"', at) - at);
}

// The inodes of the sockets bound to 127.0.0.1:port in /proc/net/tcp (listening) or
// /proc/net/udp.
std::vector<std::string> loopback_socket_inodes(int port, bool udp) {
  char local[32];
  std::snprintf(local, sizeof local, "0100007F:%04X", port);
  std::ifstream table(udp ? "/proc/net/udp" : "/proc/net/tcp");
  std::vector<std::string> inodes;
  std::string line;
  std::getline(table, line);  // the header
  while (std::getline(table, line)) {
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    std::vector<std::string> columns;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && line[i] == ' ') {
        ++i;
      }
      size_t start = i;
      while (i < line.size() && line[i] != ' ') {
        ++i;
      }
      if (i > start) {
        columns.push_back(line.substr(start, i - start));
      }
    }
    if (columns.size() > 9 && columns[1] == local && columns[3] == (udp ? "07" : "0A")) {
      inodes.push_back(columns[9]);
    }
  }
  return inodes;
}

// Whether process pid holds a socket listening (TCP) or bound (UDP) on 127.0.0.1:port. Asking the
// kernel, rather than connecting, keeps the receivers' logs free of aborted handshakes.
bool holds_socket(pid_t pid, int port, bool udp) {
  std::vector<std::string> inodes = loopback_socket_inodes(port, udp);
  if (pid <= 0 || inodes.empty()) {
    return false;
  }
  std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* dir = ::opendir(fd_dir.c_str());
  if (dir == nullptr) {
    return false;
  }
  bool found = false;
  while (dirent* entry = ::readdir(dir)) {
    char target[128];
    std::string link = fd_dir + "/" + entry->d_name;
    ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
    if (n <= 0) {
      continue;
    }
    std::string socket(target, static_cast<size_t>(n));
    for (const std::string& inode : inodes) {
      found = found || socket == "socket:[" + inode + "]";
    }
  }
  ::closedir(dir);
  return found;
}

bool mentions_bind_failure(const std::string& log) {
  std::string lower = log;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // rsyslog: "error while binding relp tcp socket", "Error while binding tcp socket", "imudp:
  // Could not create udp listener"; syslog-ng: "Error binding socket".
  return lower.find("binding") != std::string::npos ||
         lower.find("could not create udp listener") != std::string::npos;
}

std::string syslog_ng_module_path() {
  std::string pattern = std::string(kSyslogNgRoot) + "/usr/lib/syslog-ng/3.*";
  glob_t g{};
  std::string path;
  if (::glob(pattern.c_str(), GLOB_ONLYDIR, nullptr, &g) == 0 && g.gl_pathc > 0) {
    path = g.gl_pathv[0];
  }
  globfree(&g);
  return path;
}

}  // namespace

std::string to_string(ReceiverKind kind) {
  switch (kind) {
    case ReceiverKind::kRsyslogRelp:
      return "rsyslog-relp";
    case ReceiverKind::kRsyslogRelpTls:
      return "rsyslog-relp-tls";
    case ReceiverKind::kRsyslogTls:
      return "rsyslog-tls";
    case ReceiverKind::kRsyslogTcp:
      return "rsyslog-tcp";
    case ReceiverKind::kRsyslogUdp:
      return "rsyslog-udp";
    case ReceiverKind::kSyslogNgTls:
      return "syslog-ng-tls";
  }
  return "?";
}

int pick_free_port() {
  for (int attempt = 0; attempt < 100; ++attempt) {
    int tcp = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    int port = 0;
    if (tcp >= 0 && udp >= 0 && ::bind(tcp, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
        ::getsockname(tcp, reinterpret_cast<sockaddr*>(&addr), &len) == 0 &&
        ::bind(udp, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      port = ntohs(addr.sin_port);
    }
    if (tcp >= 0) {
      ::close(tcp);
    }
    if (udp >= 0) {
      ::close(udp);
    }
    if (port > 0) {
      return port;
    }
  }
  throw std::runtime_error("no free port on 127.0.0.1");
}

std::string syslog_ng_root() {
  return kSyslogNgRoot;
}

SyslogReceiver::SyslogReceiver(std::string dir, ReceiverKind kind, ReceiverTls tls)
    : dir_(std::move(dir)), kind_(kind), tls_(std::move(tls)) {
  if (is_tls(kind_) && (tls_.ca.empty() || tls_.cert.empty() || tls_.key.empty())) {
    throw std::invalid_argument(to_string(kind_) + " needs ReceiverTls ca, cert and key");
  }
  ::mkdir(dir_.c_str(), 0700);
  if (kind_ == ReceiverKind::kSyslogNgTls &&
      ::access((syslog_ng_root() + "/usr/sbin/syslog-ng").c_str(), X_OK) != 0) {
    throw std::runtime_error("no syslog-ng in " + syslog_ng_root() +
                             ": run scripts/fetch-syslog-ng.sh (scripts/install-deps.sh does)");
  }
  start(false);
}

SyslogReceiver::~SyslogReceiver() {
  stop();
}

std::string SyslogReceiver::config(int port) const {
  const std::string output = output_path();
  const std::string loopback = "address=\"127.0.0.1\"";
  Example example(example_name(kind_));
  std::string test_part;
  switch (kind_) {
    case ReceiverKind::kRsyslogRelp:
    case ReceiverKind::kRsyslogTcp:
    case ReceiverKind::kRsyslogUdp: {
      // The example's TLS input gives way to a plain one into the example's ruleset.
      bool relp = kind_ == ReceiverKind::kRsyslogRelp;
      std::string head = relp ? "input(type=\"imrelp\"" : "input(type=\"imtcp\"";
      std::string ruleset = attribute(example.statement(head), "ruleset");
      std::string type = relp ? "imrelp" : kind_ == ReceiverKind::kRsyslogTcp ? "imtcp" : "imudp";
      std::string input = "input(type=\"" + type + "\" port=\"" + std::to_string(port) + "\" " +
                          loopback + " ruleset=\"" + ruleset + "\")";
      if (type == "imudp") {
        input = "module(load=\"imudp\")\n" + input;
      }
      example.replace_statement(head, input);
      example.replace(relp ? "/var/log/soc/assas-relp.jsonl" : "/var/log/soc/assas-syslog.jsonl",
                      output);
      break;
    }
    case ReceiverKind::kRsyslogRelpTls:
      example.replace("port=\"2514\"", "port=\"" + std::to_string(port) + "\" " + loopback);
      example.replace("/var/log/soc/assas-relp.jsonl", output);
      if (!tls_.require_client_cert) {
        example.replace("tls.authMode=\"certvalid\"", "");
      }
      break;
    case ReceiverKind::kRsyslogTls:
      example.replace("port=\"6514\"", "port=\"" + std::to_string(port) + "\" " + loopback);
      example.replace("/var/log/soc/assas-syslog.jsonl", output);
      if (!tls_.require_client_cert) {
        example.replace("streamDriver.authMode=\"x509/certvalid\"",
                        "streamDriver.authMode=\"anon\"");
      }
      break;
    case ReceiverKind::kSyslogNgTls:
      example.replace("ip(\"0.0.0.0\")", "ip(\"127.0.0.1\")");
      example.replace("port(6514)", "port(" + std::to_string(port) + ")");
      example.replace("/var/log/soc/assas-syslog-ng.jsonl", output);
      if (!tls_.require_client_cert) {
        example.replace("peer-verify(required-trusted)", "peer-verify(optional-trusted)");
      }
      break;
  }
  if (is_tls(kind_)) {
    example.replace(kExampleCa, tls_.ca);
    example.replace(kExampleCert, tls_.cert);
    example.replace(kExampleKey, tls_.key);
  }
  if (kind_ == ReceiverKind::kSyslogNgTls) {
    // What Debian's /etc/syslog-ng/syslog-ng.conf says before it includes conf.d/.
    test_part = "@version: 3.38\n# Added by the integration tests; docs/outputs/" +
                example_name(kind_) + " follows.\n";
  } else {
    // rsyslogd keeps its state files in the test's directory. The example loads no imuxsock or
    // imklog, and -f replaces /etc/rsyslog.conf: this rsyslogd touches no system log or socket.
    test_part = "# Added by the integration tests; docs/outputs/" + example_name(kind_) +
                " follows.\nglobal(workDirectory=\"" + dir_ + "\")\n";
  }
  return test_part + example.text();
}

std::vector<std::string> SyslogReceiver::argv() const {
  if (kind_ == ReceiverKind::kSyslogNgTls) {
    return {syslog_ng_root() + "/usr/sbin/syslog-ng",
            "-F",  // foreground
            "--stderr",
            "--no-caps",
            "--cfgfile=" + config_path(),
            "--persist-file=" + dir_ + "/syslog-ng.persist",
            "--pidfile=" + dir_ + "/receiver.pid",
            "--control=" + dir_ + "/syslog-ng.ctl",
            "--module-path=" + syslog_ng_module_path()};
  }
  return {"/usr/sbin/rsyslogd", "-n", "-f", config_path(), "-i", dir_ + "/receiver.pid"};
}

void SyslogReceiver::start(bool same_port) {
  std::map<std::string, std::string> env;
  if (kind_ == ReceiverKind::kSyslogNgTls) {
    env["LD_LIBRARY_PATH"] = syslog_ng_root() + "/usr/lib/syslog-ng";
  }
  const std::string log_path = dir_ + "/receiver.log";
  int port = same_port ? port_ : pick_free_port();
  // A port free a moment ago may be taken by another test's process; then a new one (or, on a
  // restart that must keep its port, the same one again a little later).
  for (int attempt = 0; attempt < 20; ++attempt) {
    write_text_file(config_path(), config(port));
    // A pid file left by a killed rsyslogd could name a live process by now, and rsyslogd would
    // not start.
    ::unlink((dir_ + "/receiver.pid").c_str());
    size_t log_start = read_text_file(log_path).size();
    process_.start(argv(), env, log_path);
    bool listening = false;
    bool bind_failed = false;
    assas::test::wait_for(
        [&] {
          listening = holds_socket(process_.pid(), port, is_udp(kind_));
          std::string text = read_text_file(log_path);
          bind_failed =
              !listening && mentions_bind_failure(text.substr(std::min(log_start, text.size())));
          return listening || bind_failed || !process_.is_running();
        },
        20s, 20ms);
    if (listening) {
      port_ = port;
      return;
    }
    process_.terminate(5s);
    if (!bind_failed) {
      throw std::runtime_error(to_string(kind_) + " did not listen on 127.0.0.1:" +
                               std::to_string(port) + " within 20 s; its log:\n" + log());
    }
    if (same_port) {
      std::this_thread::sleep_for(250ms);
    } else {
      port = pick_free_port();
    }
  }
  throw std::runtime_error(to_string(kind_) + " could not bind 127.0.0.1:" + std::to_string(port) +
                           "; its log:\n" + log());
}

void SyslogReceiver::stop() {
  if (process_.pid() > 0) {
    process_.terminate(10s);
  }
}

void SyslogReceiver::crash() {
  if (process_.pid() > 0) {
    process_.kill9();
  }
}

void SyslogReceiver::restart() {
  stop();
  start(true);
}

std::vector<ReceivedSyslog> SyslogReceiver::received() const {
  std::vector<ReceivedSyslog> out;
  for (const std::string& line : read_lines_of(output_path())) {
    std::map<std::string, std::string> fields;
    try {
      fields = parse_json_object(line);
    } catch (const std::exception& e) {
      throw std::runtime_error(to_string(kind_) + " wrote a line the tests cannot read (" +
                               e.what() + "): " + line);
    }
    ReceivedSyslog r;
    r.hostname = fields["hostname"];
    r.app_name = fields["app_name"];
    r.procid = fields["procid"];
    r.msgid = fields["msgid"];
    r.structured_data = fields["structured_data"];
    r.msg = fields["msg"];
    r.raw = fields["raw"];
    out.push_back(std::move(r));
  }
  return out;
}

size_t SyslogReceiver::count() const {
  // Only what was appended since the last call is read: the tests poll this on files of 100,000
  // lines. The receivers only ever append to their file.
  std::ifstream in(output_path(), std::ios::binary);
  if (!in) {
    return 0;
  }
  in.seekg(static_cast<std::streamoff>(counted_bytes_));
  char buffer[65536];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    size_t n = static_cast<size_t>(in.gcount());
    counted_bytes_ += n;
    counted_lines_ += static_cast<size_t>(std::count(buffer, buffer + n, '\n'));
  }
  return counted_lines_;
}

bool SyslogReceiver::wait_for(size_t n, std::chrono::milliseconds deadline) const {
  return assas::test::wait_for([&] { return count() >= n; }, deadline, 50ms);
}

std::string SyslogReceiver::log() const {
  return read_text_file(dir_ + "/receiver.log");
}

}  // namespace assas::test
