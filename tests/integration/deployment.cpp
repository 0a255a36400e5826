#include "tests/integration/deployment.h"

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "tests/support/base64.h"
#include "tests/support/binaries.h"
#include "tests/support/jsonl_reader.h"
#include "tests/support/test_pki.h"
#include "tests/support/wait_for.h"

namespace assas::test {

using namespace std::chrono_literals;

namespace {
constexpr std::string_view kStarted = "assas-agent info started ";
}  // namespace

Deployment::Deployment(std::string agent_id) : dir_("assas-it"), agent_id_(std::move(agent_id)) {
  make_test_pki(dir_.file("pki"), agent_id_);
  std::string mkdir = "mkdir -p '" + logs_dir() + "'";
  if (std::system(mkdir.c_str()) != 0) {  // NOLINT(concurrency-mt-unsafe)
    throw std::runtime_error("mkdir failed");
  }
  write_ingest_config(0);
}

// Receiver 0 keeps the plain names (ingest.yaml, ingest.log, ingest-data); receiver i > 0 has
// ingest<i>.yaml and so on.
std::string Deployment::receiver_file(size_t i, const std::string& what) const {
  return dir_.file(i == 0 ? "ingest" + what : "ingest" + std::to_string(i) + what);
}

std::string Deployment::ingest_config(size_t i) const {
  return receiver_file(i, ".yaml");
}

void Deployment::write_ingest_config(size_t i) {
  std::string pki = dir_.file("pki");
  int port = i < receivers_.size() ? receivers_[i]->port : 0;
  write_text_file(ingest_config(i),
                  "ingest:\n"
                  "  listen: [\"127.0.0.1:" +
                      std::to_string(port) +
                      "\"]\n"
                      "  data_dir: " +
                      receiver_file(i, "-data") + "\n" + ingest_options_yaml_ +
                      "tls:\n"
                      "  ca: " +
                      pki +
                      "/ca.pem\n"
                      "  cert: " +
                      pki +
                      "/ingest.pem\n"
                      "  key: " +
                      pki + "/ingest.key\n" + ingest_tls_yaml_);
}

Deployment::Receiver& Deployment::receiver(size_t i) {
  while (receivers_.size() <= i) {
    receivers_.push_back(std::make_unique<Receiver>());
  }
  return *receivers_[i];
}

void Deployment::start_ingest(size_t i) {
  Receiver& r = receiver(i);
  std::string log = receiver_file(i, ".log");
  // Started again: the same port, so that the agent finds it where it was.
  write_ingest_config(i);
  if (r.port > 0) {
    // A fresh log, so that the wait below sees this run's "listening" line.
    append_text_file(receiver_file(i, "-earlier.log"), read_text_file(log));
    write_text_file(log, "");
  }
  r.process.start({ASSAS_INGEST_BIN, "--config", ingest_config(i)}, {}, log);
  r.port = wait_for_number_in_file(log, "listening address=127.0.0.1 port=", 20s);
  if (r.port <= 0) {
    throw std::runtime_error("assas-ingest did not start listening:\n" + ingest_log(i));
  }
}

std::string Deployment::endpoint(size_t i) const {
  int port = i < receivers_.size() && receivers_[i]->port > 0 ? receivers_[i]->port : 6514;
  return "127.0.0.1:" + std::to_string(port);
}

std::string Deployment::output_tls_yaml() const {
  std::string pki = dir_.file("pki");
  return "    tls:\n"
         "      ca: " +
         pki +
         "/ca.pem\n"
         "      cert: " +
         pki +
         "/agent.pem\n"
         "      key: " +
         pki +
         "/agent.key\n"
         "      server_name: localhost\n";
}

std::string Deployment::file_collector_yaml() const {
  return "  - type: file\n"
         "    name: logs\n" +
         (collector_yaml_.empty() ? "    paths: [\"" + logs_dir() +
                                        "/*.log\"]\n"
                                        "    start_at: beginning\n"
                                        "    stat_interval: 100ms\n"
                                        "    rescan_interval: 200ms\n"
                                  : collector_yaml_);
}

std::string Deployment::write_agent_config(const std::string& pipeline_yaml) {
  std::string config = dir_.file("agent.yaml");
  write_text_file(
      config,
      "agent:\n"
      "  id: " +
          agent_id_ +
          "\n"
          "  data_dir: " +
          dir_.file("agent-data") +
          "\n"
          "collectors:\n" +
          (collectors_yaml_.empty() ? file_collector_yaml() : collectors_yaml_) +
          (pipeline_yaml.empty() ? std::string("pipeline: { batch: { max_delay: 50ms } }\n")
                                 : pipeline_yaml) +
          (outputs_yaml_.empty() ? "outputs:\n"
                                   "  - type: assas\n"
                                   "    endpoints: [\"" +
                                       endpoint(0) +
                                       "\"]\n"
                                       "    backoff: { min: 50ms, max: 500ms }\n" +
                                       output_tls_yaml()
                                 : outputs_yaml_));
  return config;
}

void Deployment::start_agent(const std::string& pipeline_yaml,
                             const std::map<std::string, std::string>& env) {
  std::string config = write_agent_config(pipeline_yaml);
  auto starts = [this] {
    size_t n = 0;
    std::string log = agent_log();
    for (size_t at = log.find(kStarted); at != std::string::npos; at = log.find(kStarted, at + 1)) {
      ++n;
    }
    return n;
  };
  size_t before = starts();
  agent_.start({ASSAS_AGENT_BIN, "--config", config}, env, dir_.file("agent.log"));
  // Up and handling signals, as systemd would wait for before it may stop it.
  if (!wait_for([&] { return starts() > before || !agent_.is_running(); }, 20s)) {
    throw std::runtime_error("assas-agent did not start:\n" + agent_log());
  }
}

std::vector<ReceivedEvent> Deployment::received_by(size_t i) const {
  std::vector<ReceivedEvent> events;
  for (const std::string& line :
       read_lines_of(receiver_file(i, "-data") + "/" + agent_id_ + "/events-*.jsonl")) {
    std::map<std::string, std::string> object = parse_json_object(line);
    ReceivedEvent event{object["source"], object["message"], std::stoull(object["offset"]), {}};
    if (object.count("message_base64") != 0) {
      event.message = base64_decode(object["message_base64"]);
    }
    if (object.count("fields") != 0) {
      event.fields = parse_json_object(object["fields"]);
    }
    events.push_back(std::move(event));
  }
  return events;
}

std::vector<ReceivedEvent> Deployment::received() const {
  std::vector<ReceivedEvent> events;
  for (size_t i = 0; i < std::max<size_t>(receivers_.size(), 1); ++i) {
    std::vector<ReceivedEvent> more = received_by(i);
    events.insert(events.end(), std::make_move_iterator(more.begin()),
                  std::make_move_iterator(more.end()));
  }
  return events;
}

bool Deployment::wait_for_events(size_t n, std::chrono::seconds deadline) const {
  auto stored = [&] {
    size_t total = 0;
    for (size_t i = 0; i < std::max<size_t>(receivers_.size(), 1); ++i) {
      total +=
          read_lines_of(receiver_file(i, "-data") + "/" + agent_id_ + "/events-*.jsonl").size();
    }
    return total;
  };
  return wait_for([&] { return stored() >= n; }, deadline, 200ms);
}

std::string Deployment::agent_log() const {
  return read_text_file(dir_.file("agent.log"));
}
double Deployment::metric(const std::string& name) const {
  std::istringstream lines(read_text_file(agent_data_dir() + "/metrics.prom"));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 &&
        line[name.size()] == ' ') {
      return std::stod(line.substr(name.size() + 1));
    }
  }
  return -1;
}

std::string Deployment::ingest_log(size_t i) const {
  return read_text_file(receiver_file(i, ".log"));
}

}  // namespace assas::test
