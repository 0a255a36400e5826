// assas-ingest: the SOC-side receiver of the native protocol. See docs/ingest.md.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <uv.h>

#include "base/file_util.h"
#include "base/log.h"
#include "base/service_notifier.h"
#include "base/uv_util.h"
#include "ingest/ingest_config.h"
#include "ingest/ingest_metrics.h"
#include "ingest/ingest_service.h"
#include "ingest/verify/verify_command.h"
#include "transport/server/tls_server.h"

namespace assas::ingest {
namespace {

struct Runtime {
  transport::TlsServer* server = nullptr;
  IngestService* service = nullptr;
  IngestMetricsEndpoint* metrics = nullptr;  // null unless ingest.metrics.listen is set
  uv_signal_t sigterm{};
  uv_signal_t sigint{};
  uv_signal_t sighup{};
  uv_timer_t drain{};
  ServiceNotifier* notifier = nullptr;
  bool stopping = false;
};

void close_runtime(Runtime& rt) {
  uv_close(reinterpret_cast<uv_handle_t*>(&rt.sigterm), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&rt.sigint), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&rt.sighup), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&rt.drain), nullptr);
  if (rt.metrics != nullptr) {
    rt.metrics->close([] {});
  }
  rt.notifier->close([] {});
}

// Store jobs already on the thread pool finish (their batches become durable); waiting for them
// with a short timer keeps the loop alive until then.
void wait_for_jobs(uv_timer_t* timer) noexcept {
  auto* rt = static_cast<Runtime*>(timer->data);
  if (rt->service->idle()) {
    uv_timer_stop(timer);
    close_runtime(*rt);
  }
}

void on_signal(uv_signal_t* handle, int signum) noexcept {
  auto* rt = static_cast<Runtime*>(handle->data);
  if (rt->stopping) {
    return;
  }
  rt->stopping = true;
  rt->notifier->stopping();
  ASSAS_LOG(kInfo, "stopping", log::kv("signal", signum == SIGTERM ? "SIGTERM" : "SIGINT"));
  rt->server->close([rt] { uv_timer_start(&rt->drain, &wait_for_jobs, 0, 20); });
}

// The receiver has no reload: its listeners, store and TLS context live as long as the process.
// SIGHUP is answered rather than left to kill it (its default action).
void on_hangup(uv_signal_t* handle, int signum) noexcept {
  (void)handle;
  (void)signum;
  ASSAS_LOG(kWarn,
            "SIGHUP ignored: assas-ingest does not reload its config; restart it to apply "
            "a change (agents reconnect and resend what was not acknowledged)");
}

int run(const std::string& config_path, bool check_only) {
  Result<IngestConfig> config = load_ingest_config(config_path);
  if (!config.is_ok()) {
    std::fprintf(stderr, "%s\n", config.status().message().c_str());
    return 1;
  }
  log::set_min_level(config->log_level);
  Status files = validate_ingest_config_files(*config);
  if (!files.is_ok()) {
    std::fprintf(stderr, "%s\n", files.message().c_str());
    return 1;
  }
  ignore_sigpipe();
  uv_loop_t loop;
  if (uv_loop_init(&loop) != 0) {
    std::fprintf(stderr, "cannot initialise the event loop\n");
    return 1;
  }
  IngestService service(&loop, config->service);
  Result<std::unique_ptr<transport::TlsServer>> server =
      transport::TlsServer::create(&loop, config->server, service);
  if (!server.is_ok()) {
    std::fprintf(stderr, "%s: %s\n", config_path.c_str(), server.status().message().c_str());
    uv_loop_close(&loop);
    return 1;
  }
  if (check_only) {
    server->reset();
    uv_loop_close(&loop);
    std::printf("config OK: %s\n", config_path.c_str());
    return 0;
  }
  Status data_dir = ensure_private_dir(config->service.data_dir);
  Status started = data_dir.is_ok() ? (*server)->start() : data_dir;
  ServiceNotifier notifier(&loop);
  Runtime rt;
  rt.notifier = &notifier;
  rt.server = server->get();
  rt.service = &service;
  std::unique_ptr<IngestMetricsEndpoint> metrics;
  if (config->metrics.enabled) {
    metrics = std::make_unique<IngestMetricsEndpoint>(
        &loop, config->metrics, [&service] { return service.metrics_text(); });
    rt.metrics = metrics.get();
    if (started.is_ok()) {
      started = metrics->start();
    }
  }
  uv_signal_init(&loop, &rt.sigterm);
  uv_signal_init(&loop, &rt.sigint);
  uv_signal_init(&loop, &rt.sighup);
  uv_timer_init(&loop, &rt.drain);
  rt.sigterm.data = rt.sigint.data = rt.sighup.data = rt.drain.data = &rt;
  uv_signal_start(&rt.sigterm, &on_signal, SIGTERM);
  uv_signal_start(&rt.sigint, &on_signal, SIGINT);
  uv_signal_start(&rt.sighup, &on_hangup, SIGHUP);
  release_stop_signals();
  int exit_code = 0;
  if (!started.is_ok()) {
    ASSAS_LOG(kError, "cannot start", log::kv("error", started.to_string()));
    exit_code = 1;
    on_signal(&rt.sigterm, SIGTERM);
  } else {
    std::vector<int> ports = (*server)->bound_ports();
    for (size_t i = 0; i < ports.size(); ++i) {
      std::string address = config->server.listen[i].substr(0, config->server.listen[i].rfind(':'));
      if (!address.empty() && address.front() == '[') {
        address = address.substr(1, address.size() - 2);
      }
      ASSAS_LOG(kInfo, "listening", log::kv("address", address), log::kv("port", ports[i]),
                log::kv("data_dir", config->service.data_dir));
    }
    notifier.ready("receiving on " + std::to_string(ports.size()) + " listeners");
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  server->reset();
  if (uv_loop_close(&loop) != 0) {
    ASSAS_LOG(kWarn, "event loop closed with handles still open");
  }
  ASSAS_LOG(kInfo, "stopped");
  return exit_code;
}

}  // namespace
}  // namespace assas::ingest

int main(int argc, char** argv) {
  assas::hold_stop_signals();  // released once the loop handles them
  assas::log::set_program("assas-ingest");
  CLI::App app{"assas-ingest: receives agents' logs over mutual TLS and stores them as JSON lines"};
  std::string config_path = "/etc/assas/ingest.yaml";
  bool check_only = false;
  app.add_option("-c,--config", config_path, "receiver config file (YAML)");
  app.add_flag("--check", check_only, "validate the config, certificates and keys, then exit");
  app.set_version_flag("--version", std::string("assas-ingest ") + ASSAS_VERSION);
  assas::ingest::VerifyOptions verify_options;
  CLI::App* verify = app.add_subcommand(
      "verify",
      "re-check the hash chain of stored events from the files alone (docs/integrity.md); exit 0 "
      "intact, 1 altered, 2 cannot run, 3 intact with gaps or breaks recorded on receipt");
  verify
      ->add_option("paths", verify_options.paths,
                   "an agent's directory, a data directory, or an agent name under --data-dir")
      ->required();
  verify->add_option("--data-dir", verify_options.data_dir, "where agent names are looked up");
  verify->add_option("--ca", verify_options.ca_file,
                     "CA file: the stored agent certificates must be signed by it");
  CLI11_PARSE(app, argc, argv);
  if (*verify) {
    return assas::ingest::run_verify(verify_options);
  }
  return assas::ingest::run(config_path, check_only);
}
