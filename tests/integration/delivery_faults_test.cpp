// Delivery under faults (issue 5, faults 1 and 2): real assas-agent and assas-ingest processes
// killed with SIGKILL at random moments while lines are written and rotated; at the end the
// receiver holds every line exactly once. The random moments come from a seed printed with the
// results, so a failure can be replayed (ASSAS_FAULT_SEED).

#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/integration/deployment.h"
#include "tests/integration/log_writer.h"

namespace assas::test {
namespace {

using namespace std::chrono_literals;

const std::string kPipeline = "pipeline: { batch: { max_events: 256, max_delay: 20ms } }\n";

uint32_t seed() {
  const char* fixed = std::getenv("ASSAS_FAULT_SEED");  // NOLINT(concurrency-mt-unsafe)
  return fixed != nullptr ? static_cast<uint32_t>(std::strtoul(fixed, nullptr, 10))
                          : std::random_device{}();
}

std::chrono::milliseconds between(std::mt19937& random, int low_ms, int high_ms) {
  return std::chrono::milliseconds(std::uniform_int_distribution<int>(low_ms, high_ms)(random));
}

// Writes `total` lines at a steady pace on its own thread, rotating (rename + create) every
// `rotate_every` lines; the caller does the damage meanwhile.
class PacedWriter {
 public:
  PacedWriter(const std::string& path, int total, int rotate_every)
      : writer_(path, "k"), thread_([this, total, rotate_every] {
          int since_rotation = 0;
          while (static_cast<int>(writer_.ids().size()) < total) {
            writer_.write(200);
            since_rotation += 200;
            if (rotate_every > 0 && since_rotation >= rotate_every) {
              writer_.rename_rotate(100);
              writer_.reopen();
              since_rotation = 0;
            }
            std::this_thread::sleep_for(8ms);
          }
        }) {}
  ~PacedWriter() {
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  PacedWriter(const PacedWriter&) = delete;
  PacedWriter& operator=(const PacedWriter&) = delete;

  const std::vector<std::string>& finish() {
    thread_.join();
    return writer_.ids();
  }

 private:
  LogWriter writer_;
  std::thread thread_;
};

void start(Deployment& d) {
  d.set_collector("    paths: [\"" + d.logs_dir() +
                  "/*.log\"]\n"
                  "    start_at: beginning\n"
                  "    stat_interval: 100ms\n"
                  "    rescan_interval: 500ms\n"
                  "    rotate_wait: 300ms\n");
  d.start_ingest();
  d.start_agent(kPipeline);
}

}  // namespace

TEST_CASE(
    "fault 1: the agent killed with kill -9 30 times while 200000 lines are written and "
    "rotated",
    "[integration][faults][crash]") {
  uint32_t s = seed();
  std::mt19937 random(s);
  Deployment d;
  start(d);
  PacedWriter writer(d.logs_dir() + "/app.log", 200000, 7000);
  for (int kill = 0; kill < 30; ++kill) {
    std::this_thread::sleep_for(between(random, 50, 350));
    d.agent().kill9();
    std::this_thread::sleep_for(between(random, 0, 100));
    d.start_agent(kPipeline);
  }
  const std::vector<std::string>& ids = writer.finish();
  std::printf("  seed %u: 30 kill -9 of the agent, %zu lines in rotating files\n", s, ids.size());
  INFO("seed " << s);
  require_exactly_once(d, ids, 300s);
  REQUIRE(d.agent().terminate(20s) == 0);
}

TEST_CASE("fault 2: assas-ingest killed with kill -9 10 times while the agent ships",
          "[integration][faults][crash]") {
  uint32_t s = seed();
  std::mt19937 random(s);
  Deployment d;
  start(d);
  PacedWriter writer(d.logs_dir() + "/app.log", 100000, 0);
  for (int kill = 0; kill < 10; ++kill) {
    std::this_thread::sleep_for(between(random, 100, 500));
    d.ingest().kill9();
    std::this_thread::sleep_for(between(random, 0, 300));
    d.start_ingest();  // same port: the agent reconnects by itself and resends what was not acked
  }
  const std::vector<std::string>& ids = writer.finish();
  std::printf("  seed %u: 10 kill -9 of assas-ingest, %zu lines\n", s, ids.size());
  INFO("seed " << s);
  require_exactly_once(d, ids, 300s);
  REQUIRE(d.agent().terminate(20s) == 0);
  REQUIRE(d.ingest().terminate(20s) == 0);
}

}  // namespace assas::test
