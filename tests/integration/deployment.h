#pragma once

// One agent and one receiver, as real processes on 127.0.0.1, with certificates made at test time
// (scripts/make-demo-pki.sh, openssl) in a fresh temporary directory. Every process is started and
// stopped by its PID through ProcessGuard; every wait is bounded.

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "tests/support/process_guard.h"
#include "tests/support/temp_dir.h"

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

  // Starts assas-ingest on a free port and waits until it listens; started again, it listens on the
  // same port.
  void start_ingest();
  // Writes the agent config (extra_yaml is appended to the collector entry) and starts the agent.
  void start_agent(const std::string& pipeline_yaml = "");
  // The body of the one file collector (named "logs") in the agent config, replacing the default:
  // paths [<logs_dir>/*.log], start_at beginning, stat_interval 100ms, rescan_interval 200ms.
  void set_collector(std::string yaml) { collector_yaml_ = std::move(yaml); }
  // Writes the agent config and returns its path; before start_ingest() the endpoint is a
  // placeholder port (enough for --check).
  std::string write_agent_config(const std::string& pipeline_yaml = "");
  std::string ingest_config() const { return dir_.file("ingest.yaml"); }
  ProcessGuard& agent() { return agent_; }
  ProcessGuard& ingest() { return ingest_; }

  // Every complete JSON line stored for the agent so far, parsed.
  std::vector<ReceivedEvent> received() const;
  // Waits until at least n events are stored; false at the deadline.
  bool wait_for_events(size_t n, std::chrono::seconds deadline) const;
  std::string agent_log() const;
  std::string agent_data_dir() const { return dir_.file("agent-data"); }
  std::string ingest_log() const;

 private:
  TempDir dir_;
  std::string agent_id_;
  std::string collector_yaml_;
  int port_ = 0;
  ProcessGuard ingest_;
  ProcessGuard agent_;
};

}  // namespace assas::test
