#pragma once

// One agent and one or more receivers, as real processes on 127.0.0.1, with certificates made at
// test time (scripts/make-demo-pki.sh, openssl) in a fresh temporary directory. Every process is
// started and stopped by its PID through ProcessGuard; every wait is bounded.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/process_guard.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace assas::test {

struct ReceivedEvent {
  std::string source;
  std::string message;  // decoded from message_base64 when it was not UTF-8
  uint64_t offset = 0;
  std::map<std::string, std::string> fields;
};

class Deployment {
 public:
  explicit Deployment(std::string agent_id = "it-agent");

  const std::string& root() const { return dir_.path(); }
  std::string logs_dir() const { return dir_.file("logs"); }

  // Starts receiver i (assas-ingest; receiver i exists once started) on a free port and waits
  // until it listens; started again, it listens on the same port. Each receiver has its own config,
  // data directory and log.
  void start_ingest(size_t i = 0);
  // Writes the agent config (extra_yaml is appended to the collector entry) and starts the agent.
  // env: extra environment variables for the agent process (e.g. NOTIFY_SOCKET).
  void start_agent(const std::string& pipeline_yaml = "",
                   const std::map<std::string, std::string>& env = {});
  // The body of the one file collector (named "logs") in the agent config, replacing the default:
  // paths [<logs_dir>/*.log], start_at beginning, stat_interval 100ms, rescan_interval 200ms.
  void set_collector(std::string yaml) { collector_yaml_ = std::move(yaml); }
  // The whole list under `collectors:` (entries at two spaces: "  - type: journal\n    name: j\n"),
  // replacing the file collector; for tests of other collector types.
  void set_collectors(std::string yaml) { collectors_yaml_ = std::move(yaml); }
  // The whole `outputs:` section of the agent config, replacing the default (one assas output
  // sending to receiver 0). Use endpoint(i) and output_tls_yaml() to write it.
  void set_outputs(std::string yaml) { outputs_yaml_ = std::move(yaml); }
  // Extra lines under the receivers' `tls:` (at two spaces: "  crl: /path\n"), from the next
  // start_ingest on.
  void set_ingest_tls(std::string yaml) { ingest_tls_yaml_ = std::move(yaml); }
  // Extra lines under the receivers' `ingest:` (at two spaces: "  handshake_timeout: 2s\n").
  void set_ingest_options(std::string yaml) { ingest_options_yaml_ = std::move(yaml); }
  // The certificates made for this deployment (the agent's is "agent").
  TestPki pki() const { return TestPki{dir_.file("pki")}; }
  // "127.0.0.1:<port>" of receiver i (a placeholder port before it first started).
  std::string endpoint(size_t i = 0) const;
  // The `tls:` block of an output entry (at the indentation of an entry's keys).
  std::string output_tls_yaml() const;
  // Writes the agent config and returns its path; before start_ingest() the endpoint is a
  // placeholder port (enough for --check).
  std::string write_agent_config(const std::string& pipeline_yaml = "");
  std::string ingest_config(size_t i = 0) const;
  ProcessGuard& agent() { return agent_; }
  ProcessGuard& ingest(size_t i = 0) { return receiver(i).process; }

  // Every complete JSON line stored for the agent so far by every receiver, parsed.
  std::vector<ReceivedEvent> received() const;
  // The same, of receiver i only.
  std::vector<ReceivedEvent> received_by(size_t i) const;
  // Waits until at least n events are stored; false at the deadline.
  bool wait_for_events(size_t n, std::chrono::seconds deadline) const;
  std::string agent_log() const;
  // A value from the agent's metrics file (<data_dir>/metrics.prom, Prometheus text format), by its
  // name with labels as written, e.g. `assas_output_connected{output="soc"}`; -1 if not there.
  double metric(const std::string& name) const;
  std::string agent_data_dir() const { return dir_.file("agent-data"); }
  std::string ingest_log(size_t i = 0) const;

 private:
  struct Receiver {
    int port = 0;
    ProcessGuard process;
  };
  Receiver& receiver(size_t i);
  std::string file_collector_yaml() const;
  std::string receiver_file(size_t i, const std::string& what) const;
  void write_ingest_config(size_t i);

  TempDir dir_;
  std::string agent_id_;
  std::string collector_yaml_;
  std::string collectors_yaml_;
  std::string outputs_yaml_;
  std::string ingest_tls_yaml_;
  std::string ingest_options_yaml_;
  std::vector<std::unique_ptr<Receiver>> receivers_;
  ProcessGuard agent_;
};

}  // namespace assas::test
