#include "tests/integration/deployment.h"

#include <cstdlib>
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
  std::string pki = dir_.file("pki");
  make_test_pki(pki, agent_id_);
  std::string mkdir = "mkdir -p '" + logs_dir() + "'";
  if (std::system(mkdir.c_str()) != 0) {  // NOLINT(concurrency-mt-unsafe)
    throw std::runtime_error("mkdir failed");
  }
  write_text_file(dir_.file("ingest.yaml"),
                  "ingest:\n"
                  "  listen: [\"127.0.0.1:0\"]\n"
                  "  data_dir: " +
                      dir_.file("ingest-data") +
                      "\n"
                      "tls:\n"
                      "  ca: " +
                      pki +
                      "/ca.pem\n"
                      "  cert: " +
                      pki +
                      "/ingest.pem\n"
                      "  key: " +
                      pki + "/ingest.key\n");
}

void Deployment::start_ingest() {
  std::string log = dir_.file("ingest.log");
  if (port_ > 0) {
    // Started again: the same port, so that the agent finds it where it was.
    std::string config = read_text_file(dir_.file("ingest.yaml"));
    std::string any = "\"127.0.0.1:0\"";
    size_t at = config.find(any);
    if (at != std::string::npos) {
      config.replace(at, any.size(), "\"127.0.0.1:" + std::to_string(port_) + "\"");
      write_text_file(dir_.file("ingest.yaml"), config);
    }
    // A fresh log, so that the wait below sees this run's "listening" line.
    append_text_file(dir_.file("ingest-earlier.log"), read_text_file(log));
    write_text_file(log, "");
  }
  ingest_.start({ASSAS_INGEST_BIN, "--config", dir_.file("ingest.yaml")}, {}, log);
  port_ = wait_for_number_in_file(log, "listening address=127.0.0.1 port=", 20s);
  if (port_ <= 0) {
    throw std::runtime_error("assas-ingest did not start listening:\n" + ingest_log());
  }
}

std::string Deployment::write_agent_config(const std::string& pipeline_yaml) {
  std::string config = dir_.file("agent.yaml");
  std::string pki = dir_.file("pki");
  write_text_file(
      config,
      "agent:\n"
      "  id: " +
          agent_id_ +
          "\n"
          "  data_dir: " +
          dir_.file("agent-data") +
          "\n"
          "collectors:\n"
          "  - type: file\n"
          "    name: logs\n" +
          (collector_yaml_.empty() ? "    paths: [\"" + logs_dir() +
                                         "/*.log\"]\n"
                                         "    start_at: beginning\n"
                                         "    stat_interval: 100ms\n"
                                         "    rescan_interval: 200ms\n"
                                   : collector_yaml_) +
          (pipeline_yaml.empty() ? std::string("pipeline: { batch: { max_delay: 50ms } }\n")
                                 : pipeline_yaml) +
          "outputs:\n"
          "  - type: assas\n"
          "    endpoints: [\"127.0.0.1:" +
          std::to_string(port_ > 0 ? port_ : 6514) +
          "\"]\n"
          "    backoff: { min: 50ms, max: 500ms }\n"
          "    tls:\n"
          "      ca: " +
          pki +
          "/ca.pem\n"
          "      cert: " +
          pki +
          "/agent.pem\n"
          "      key: " +
          pki +
          "/agent.key\n"
          "      server_name: localhost\n");
  return config;
}

void Deployment::start_agent(const std::string& pipeline_yaml) {
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
  agent_.start({ASSAS_AGENT_BIN, "--config", config}, {}, dir_.file("agent.log"));
  // Up and handling signals, as systemd would wait for before it may stop it.
  if (!wait_for([&] { return starts() > before || !agent_.is_running(); }, 20s)) {
    throw std::runtime_error("assas-agent did not start:\n" + agent_log());
  }
}

std::vector<ReceivedEvent> Deployment::received() const {
  std::vector<ReceivedEvent> events;
  for (const std::string& line :
       read_lines_of(dir_.file("ingest-data") + "/" + agent_id_ + "/events-*.jsonl")) {
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

bool Deployment::wait_for_events(size_t n, std::chrono::seconds deadline) const {
  std::string pattern = dir_.file("ingest-data") + "/" + agent_id_ + "/events-*.jsonl";
  return wait_for([&] { return read_lines_of(pattern).size() >= n; }, deadline, 200ms);
}

std::string Deployment::agent_log() const {
  return read_text_file(dir_.file("agent.log"));
}
std::string Deployment::ingest_log() const {
  return read_text_file(dir_.file("ingest.log"));
}

}  // namespace assas::test
