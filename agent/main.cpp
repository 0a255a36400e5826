// assas-agent: reads logs on this host and ships them to the SOC. See README.md and docs/config.md.

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <uv.h>

#include "agent/agent_assembly.h"
#include "agent/agent_service.h"
#include "base/log.h"
#include "base/uv_util.h"
#include "collectors/journal/journal_reader.h"

namespace assas::agent {
namespace {

int run(const std::string& config_path, bool check_only) {
  ignore_sigpipe();  // a receiver that goes away must be an error on the write, not a dead agent
  Result<AgentConfig> config = load_checked_agent_config(config_path);
  if (!config.is_ok()) {
    std::fprintf(stderr, "%s\n", config.status().message().c_str());
    return 1;
  }
  if (check_only) {
    std::printf("config OK: %s\n", config_path.c_str());
    return 0;
  }
  log::set_min_level(config->agent.log_level);
  uv_loop_t loop;
  if (uv_loop_init(&loop) != 0) {
    std::fprintf(stderr, "cannot initialise the event loop\n");
    return 1;
  }
  int exit_code = 0;
  {
    AgentService service(&loop, config_path, std::move(config).value());
    service.start();
    uv_run(&loop, UV_RUN_DEFAULT);
    exit_code = service.exit_code();
  }
  if (uv_loop_close(&loop) != 0) {
    ASSAS_LOG(kWarn, "event loop closed with handles still open");
  }
  return exit_code;
}

}  // namespace
}  // namespace assas::agent

int main(int argc, char** argv) {
  // The journal collector's child process (collectors/journal/journal_reader.h): hidden, and first,
  // so that it holds no signals and parses nothing of the agent's command line.
  if (argc >= 2 && std::string_view(argv[1]) == "--journal-reader") {
    return assas::collectors::run_journal_reader(std::vector<std::string>(argv + 2, argv + argc));
  }
  assas::hold_stop_signals();  // released once the loop handles them
  assas::log::set_program("assas-agent");
  CLI::App app{"assas-agent: ships this host's logs to the SOC over mutual TLS"};
  std::string config_path = "/etc/assas/agent.yaml";
  bool check_only = false;
  app.add_option("-c,--config", config_path, "agent config file (YAML)");
  app.add_flag("--check", check_only, "validate the config, certificates and keys, then exit");
  app.set_version_flag("--version", std::string("assas-agent ") + ASSAS_VERSION);
  CLI11_PARSE(app, argc, argv);
  return assas::agent::run(config_path, check_only);
}
