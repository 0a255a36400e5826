// Delivery under network faults (issue 5, faults 7 and 8), with real assas-agent and assas-ingest
// processes on 127.0.0.1 and a TcpProxy between them that the test controls:
// - fault 7, a slow receiver: it grants few credits and reads slowly; the agent keeps no more
//   than its in-flight limit unacknowledged, its memory stays bounded, and every line arrives once;
// - fault 8, a silent partition: the link goes dead without closing anything; the agent finds out
//   by its heartbeat, keeps trying to reconnect, and when the link heals every line arrives once.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/integration/deployment.h"
#include "tests/integration/log_writer.h"
#include "tests/support/binaries.h"
#include "tests/support/proc_status.h"
#include "tests/support/tcp_proxy.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace assas::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Batches of at most 32 KiB, not compressed: the bytes on the wire are the bytes of the lines, so
// that a batch is big next to a 64 KiB in-flight limit (zstd would make every batch a few KiB).
const std::string kPipeline =
    "pipeline: { batch: { max_events: 256, max_bytes: 32KiB, max_delay: 20ms }, "
    "compression: { codec: none } }\n";
// The largest payload one batch can have: the batcher closes a batch once it reaches max_bytes,
// so it may pass it by one line and the record framing.
constexpr double kOneBatch = (32 << 10) + 1024;
constexpr double kMaxInflight = 64 << 10;
const std::string kInflight = "assas_output_inflight_bytes{output=\"assas\"}";
const std::string kInflightPeak = "assas_output_inflight_bytes_peak{output=\"assas\"}";

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int port_of(const std::string& endpoint) {
  return std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
}

// The one assas output, to port (the proxy's), with extra keys at the level of the entry's keys.
std::string outputs_to(const Deployment& d, int port, const std::string& extra) {
  return "outputs:\n"
         "  - type: assas\n"
         "    endpoints: [\"127.0.0.1:" +
         std::to_string(port) +
         "\"]\n"
         "    backoff: { min: 50ms, max: 500ms }\n" +
         extra + d.output_tls_yaml();
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

// assas-ingest as the Deployment's receiver 0 (its config file, data directory and log, so that
// d.received() and require_exactly_once() read what it stores), but with a line added under
// `ingest:`, which Deployment::start_ingest() cannot do (it writes the config again each time).
// Returns the port it listens on.
int start_ingest_with(Deployment& d, ProcessGuard& ingest, const std::string& ingest_line) {
  std::string config = read_text_file(d.ingest_config());
  const std::string section = "ingest:\n";
  REQUIRE(config.rfind(section, 0) == 0);
  config.insert(section.size(), "  " + ingest_line + "\n");
  write_text_file(d.ingest_config(), config);
  std::string log = d.root() + "/ingest.log";  // what d.ingest_log() reads
  ingest.start({ASSAS_INGEST_BIN, "--config", d.ingest_config()}, {}, log);
  int port = wait_for_number_in_file(log, "listening address=127.0.0.1 port=", 20s);
  INFO(d.ingest_log());
  REQUIRE(port > 0);
  return port;
}

// Samples the agent's RSS and its in-flight gauge every 50 ms on its own thread until stop().
class AgentSampler {
 public:
  struct Sample {
    Clock::time_point at;
    uint64_t rss_kib;
    uint64_t anon_kib;
  };

  AgentSampler(const Deployment& d, pid_t pid)
      : thread_([this, &d, pid] {
          while (!stop_.load()) {
            try {  // nothing may escape the thread; a sample that fails is only missing
              uint64_t kib = proc_status_kib(pid, "VmRSS");
              if (kib > 0) {
                samples_.push_back({Clock::now(), kib, proc_status_kib(pid, "RssAnon")});
              }
              inflight_max_ = std::max(inflight_max_, d.metric(kInflight));
            } catch (const std::exception&) {
            }
            std::this_thread::sleep_for(50ms);
          }
        }) {}
  ~AgentSampler() { stop(); }
  AgentSampler(const AgentSampler&) = delete;
  AgentSampler& operator=(const AgentSampler&) = delete;

  void stop() {
    stop_ = true;
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  // After stop():
  const std::vector<Sample>& samples() const { return samples_; }
  // The highest RSS sampled before (or from) the time point, 0 if none.
  uint64_t highest_rss(Clock::time_point from, Clock::time_point to) const {
    uint64_t highest = 0;
    for (const Sample& s : samples_) {
      if (s.at >= from && s.at < to) {
        highest = std::max(highest, s.rss_kib);
      }
    }
    return highest;
  }
  // The highest in-flight gauge seen, -1 if the metric never was there.
  double inflight_max() const { return inflight_max_; }

 private:
  std::atomic<bool> stop_{false};
  std::vector<Sample> samples_;
  double inflight_max_ = -1;
  std::thread thread_;
};

constexpr uint64_t kMiB = 1024;  // in KiB, as /proc gives sizes

double mib(uint64_t kib) {
  return static_cast<double>(kib) / 1024;
}

// The offset the checkpoint file holds for the one file source, or -1.
int64_t checkpointed_offset(const Deployment& d) {
  std::istringstream lines(read_text_file(d.agent_data_dir() + "/checkpoints"));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("file:logs:", 0) == 0) {  // "<source id> <offset> <token>"
      return std::stoll(line.substr(line.find(' ') + 1));
    }
  }
  return -1;
}

// Every event stored is one whole line as written: it starts with its id, holds no other id, and
// is not a line the agent sent without its newline (fields.partial). require_exactly_once() counts
// ids only, so it misses a line cut in two unless the cut falls inside the id.
void require_whole_lines(const Deployment& d) {
  size_t broken = 0;
  std::string examples;
  for (const ReceivedEvent& e : d.received()) {
    std::vector<std::string> ids = received_ids({e});
    bool partial = e.fields.count("partial") != 0;
    if (ids.size() != 1 || e.message.rfind(ids[0] + " ", 0) != 0 || partial) {
      if (++broken <= 5) {
        examples += "\n  offset " + std::to_string(e.offset) + (partial ? " (partial)" : "") +
                    ": '" + e.message + "'";
      }
    }
  }
  if (broken > 0) {
    std::printf("  %zu events are not whole lines:%s\n", broken, examples.c_str());
  }
  INFO(broken << " events are not whole lines:" << examples);
  REQUIRE(broken == 0);
}

// Fault 7, shared by both cases: 100,000 lines (about 10 MB, not compressed) written at once,
// through a proxy that passes 1 MiB/s from agent to receiver (a receiver that reads slowly), with
// the agent's max_inflight at its smallest, 64 KiB. The agent reads the whole file into its disk
// buffer within seconds, then drains that backlog for about 10 s. Every line arrives once; the
// agent's RSS stays bounded and does not grow while the backlog drains; its in-flight peak (the
// metric, when the agent has it) stays within inflight_bound.
void slow_receiver(Deployment& d, int receiver_port, const std::string& what,
                   double inflight_bound) {
  constexpr int kLines = 100000;
  constexpr uint64_t kRate = 1 << 20;
  TcpProxy proxy(receiver_port);
  proxy.set_rate_limit(kRate);
  d.set_outputs(outputs_to(d, proxy.port(), "    max_inflight: 64KiB\n"));
  d.start_agent(kPipeline);
  REQUIRE(wait_for([&] { return d.agent_log().find("connected to receiver") != std::string::npos; },
                   20s));
  std::this_thread::sleep_for(500ms);
  uint64_t idle_kib = proc_status_kib(d.agent().pid(), "VmRSS");
  AgentSampler sampler(d, d.agent().pid());
  LogWriter w(d.logs_dir() + "/app.log", "s");
  Clock::time_point start = Clock::now();
  w.write(kLines);
  auto size = static_cast<int64_t>(std::filesystem::file_size(w.path()));
  // The whole file is in the disk buffer: the backlog is at its largest.
  REQUIRE(wait_for([&] { return checkpointed_offset(d) == size; }, 60s));
  Clock::time_point loaded_at = Clock::now();
  double backlog_mb =
      static_cast<double>(size - static_cast<int64_t>(proxy.bytes_to_target())) / 1e6;
  require_exactly_once(d, w.ids(), 120s);
  Clock::time_point done_at = Clock::now();
  require_whole_lines(d);
  sampler.stop();
  REQUIRE(d.agent().terminate(20s) == 0);
  double peak = d.metric(kInflightPeak);  // the final figures, written at stop

  uint64_t loaded_kib = sampler.highest_rss(start, loaded_at);
  uint64_t draining_kib = sampler.highest_rss(loaded_at, done_at);
  std::printf(
      "  slow receiver (%s): %d lines, %.1f MB to the receiver at %.1f MiB/s in %.1f s (file "
      "read into the buffer after %.1f s, about %.1f MB backlog then)\n",
      what.c_str(), kLines, static_cast<double>(proxy.bytes_to_target()) / 1e6,
      static_cast<double>(kRate) / (1 << 20),
      std::chrono::duration<double>(done_at - start).count(),
      std::chrono::duration<double>(loaded_at - start).count(), backlog_mb);
  std::printf(
      "  agent RSS: %.1f MiB idle, at most %.1f MiB while reading the file, at most %.1f MiB while "
      "draining the backlog\n",
      mib(idle_kib), mib(loaded_kib), mib(draining_kib));
  std::string series;
  const std::vector<AgentSampler::Sample>& samples = sampler.samples();
  for (size_t i = 0; i < samples.size(); i += 10) {
    series += " " + std::to_string(samples[i].rss_kib / 1024) + "/" +
              std::to_string(samples[i].anon_kib / 1024);
  }
  std::printf("  agent RSS/anonymous every 0.5 s (MiB):%s\n", series.c_str());
  if (peak >= 0) {
    std::printf(
        "  in-flight bytes: peak %.0f (metric), highest gauge sampled %.0f; bound %.0f "
        "(max_inflight %.0f, one batch at most %.0f)\n",
        peak, sampler.inflight_max(), inflight_bound, kMaxInflight, kOneBatch);
  } else {
    std::printf("  in-flight bytes: metric not available yet (%s)\n", kInflightPeak.c_str());
  }
  if (peak >= 0) {
    REQUIRE(peak > 0);
    REQUIRE(peak <= inflight_bound);
  }
  if (sampler.inflight_max() >= 0) {
    REQUIRE(sampler.inflight_max() <= inflight_bound);
  }
#ifndef ASSAS_SANITIZED  // ASan's quarantine grows with every allocation: RSS means nothing there
  REQUIRE(draining_kib > 0);
  // Bounded: the agent's heap warms up by some MiB while it reads and batches at full speed (its
  // two threads' malloc arenas), but holding the 10 MB backlog would show on top of that...
  REQUIRE(std::max(loaded_kib, draining_kib) < idle_kib + 16 * kMiB);
  // ...and while the backlog drains, at the receiver's pace, nothing accumulates.
  REQUIRE(draining_kib < loaded_kib + 2 * kMiB);
#endif
}

// The first line of text at or after from that contains what, or "".
std::string line_with(const std::string& text, size_t from, const std::string& what) {
  size_t at = text.find(what, std::min(from, text.size()));
  if (at == std::string::npos) {
    return "";
  }
  size_t begin = text.rfind('\n', at);
  begin = begin == std::string::npos ? 0 : begin + 1;
  size_t end = text.find('\n', at);
  return text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

const std::string kHeartbeatOutput =
    "    connect_timeout: 2s\n"
    "    heartbeat: { interval: 200ms, timeout: 1s }\n";
// What the agent logs when its heartbeat gives the receiver up (transport/client/assas_output.cpp).
const std::string kPresumedDead = "; peer presumed dead";

// Fault 8: lines flow through the proxy at about 10,000 lines/s; the link goes silent for 6 s
// (freeze) while lines keep being written; the agent must give the connection up by its heartbeat
// (200 ms / 1 s) and keep trying to reconnect (connect_timeout 2 s: its attempts connect to the
// proxy and then hear nothing). Then the link heals: as it was (thaw: what the relay held is
// delivered late, the old connections end when their FIN gets through), or after a middlebox lost
// its state (cut, then thaw: every connection through it is closed at both ends). Every line
// arrives exactly once.
void silent_partition(bool reset_when_healed) {
  Deployment d;
  d.start_ingest();
  TcpProxy proxy(port_of(d.endpoint()));
  d.set_outputs(outputs_to(d, proxy.port(), kHeartbeatOutput));
  d.start_agent(kPipeline);
  // 80,000 lines at about 10,000 lines/s: written before, during and after the partition.
  PacedWriter writer(d.logs_dir() + "/app.log", 80000, 0, 100, 10ms, reset_when_healed ? "r" : "p");
  REQUIRE(d.wait_for_events(5000, 30s));

  size_t mark = d.agent_log().size();
  uint64_t accepted_before = proxy.connections_accepted();
  Clock::time_point frozen_at = Clock::now();
  proxy.freeze();
  std::string lost;
  bool detected = wait_for(
      [&] {
        lost = line_with(d.agent_log(), mark, kPresumedDead);
        return !lost.empty();
      },
      10s, 10ms);
  double detect_s = seconds_since(frozen_at);
  INFO(d.agent_log());
  REQUIRE(detected);
  REQUIRE(lost.find("connection to receiver lost") != std::string::npos);
  // heartbeat.timeout (1 s) plus one heartbeat tick (200 ms), with room for a busy machine.
  REQUIRE(detect_s < 3.0);
  size_t stored_at_detection = d.received().size();

  // The link stays dead for 6 s; the agent's reconnect attempts go into the black hole (TCP
  // connects, the TLS handshake never completes: connect_timeout 2 s).
  std::this_thread::sleep_until(frozen_at + 6s);
  size_t stored_at_thaw = d.received().size();
  uint64_t attempts = proxy.connections_accepted() - accepted_before;
  std::string during = d.agent_log().substr(mark);
  size_t failed_attempts = count(during, "cannot connect to receiver");
  size_t mark_thaw = d.agent_log().size();
  Clock::time_point thawed_at = Clock::now();
  if (reset_when_healed) {
    proxy.cut();
  }
  proxy.thaw();
  bool reconnected = wait_for(
      [&] { return !line_with(d.agent_log(), mark_thaw, "connected to receiver").empty(); }, 20s,
      10ms);
  double reconnect_s = seconds_since(thawed_at);
  const std::vector<std::string>& ids = writer.finish();
  require_exactly_once(d, ids, 120s);
  require_whole_lines(d);
  // "... error="Unavailable: no frame from the receiver for 1198 ms; peer presumed dead"".
  const std::string kFor = "no frame from the receiver for ";
  size_t silent_at = lost.find(kFor);
  intmax_t silent_ms = silent_at == std::string::npos
                           ? -1
                           : std::strtoll(lost.c_str() + silent_at + kFor.size(), nullptr, 10);
  std::printf(
      "  silent partition of 6 s%s (heartbeat 200 ms / 1 s): the agent gave the connection up %.2f "
      "s after the freeze (no frame for %jd ms by its own clock); %ju connection attempts into "
      "the black hole, %zu timed out (connect_timeout 2 s); reconnected %.2f s after the link "
      "healed; %zu lines, each received once\n",
      reset_when_healed ? " healed with every connection reset" : "", detect_s, silent_ms,
      static_cast<uintmax_t>(attempts), failed_attempts, reconnect_s, ids.size());
  REQUIRE(reconnected);
  // Nothing crossed the dead link, so nothing was stored while it was dead.
  REQUIRE(stored_at_thaw == stored_at_detection);
  // The agent kept trying while the link was dead, and those attempts failed cleanly.
  REQUIRE(attempts >= 1);
  REQUIRE(failed_attempts >= 1);
  REQUIRE(d.agent().terminate(20s) == 0);
  REQUIRE(d.ingest().terminate(20s) == 0);
}

}  // namespace

TEST_CASE("fault 7: a receiver granting a window of 2 batches and reading slowly gets every line",
          "[integration][faults][credits]") {
  Deployment d;
  ProcessGuard ingest;
  int port = start_ingest_with(d, ingest, "window: { batches: 2, bytes: 64KiB }");
  // Two batches at most: the window allows no third one (and 64 KiB plus one batch is more).
  slow_receiver(d, port, "window of 2 batches and 64 KiB", 2 * kOneBatch);
  // The agent adopted the receiver's window.
  INFO(d.agent_log());
  REQUIRE(d.agent_log().find("window_batches=2") != std::string::npos);
  REQUIRE(ingest.terminate(20s) == 0);
}

TEST_CASE("fault 7: max_inflight bounds the unacknowledged bytes when a slow receiver grants more",
          "[integration][faults][credits]") {
  Deployment d;
  d.start_ingest();  // the default window: 16 batches and 32 MiB, far above max_inflight
  // The agent sends while less than max_inflight is unacknowledged: at most one batch more.
  slow_receiver(d, port_of(d.endpoint()), "default window, max_inflight 64 KiB",
                kMaxInflight + kOneBatch);
  REQUIRE(d.ingest().terminate(20s) == 0);
}

TEST_CASE("fault 8: a silent partition is found by the heartbeat and loses nothing when it heals",
          "[integration][faults][partition]") {
  silent_partition(false);
}

TEST_CASE("fault 8: a silent partition that heals with every connection reset loses nothing",
          "[integration][faults][partition]") {
  silent_partition(true);
}

TEST_CASE("fault 8: a partition shorter than the heartbeat timeout keeps the connection",
          "[integration][faults][partition]") {
  Deployment d;
  d.start_ingest();
  TcpProxy proxy(port_of(d.endpoint()));
  d.set_outputs(outputs_to(d, proxy.port(), kHeartbeatOutput));
  d.start_agent(kPipeline);
  PacedWriter writer(d.logs_dir() + "/app.log", 40000, 0, 100, 10ms, "q");
  REQUIRE(d.wait_for_events(5000, 30s));
  size_t mark = d.agent_log().size();
  // Acks arrive every few ms while lines flow, so 400 ms of silence stays well below 1 s.
  proxy.freeze();
  std::this_thread::sleep_for(400ms);
  proxy.thaw();
  const std::vector<std::string>& ids = writer.finish();
  require_exactly_once(d, ids, 120s);
  require_whole_lines(d);
  std::string after = d.agent_log().substr(mark);
  INFO(after);
  std::printf(
      "  a 400 ms silent partition (heartbeat timeout 1 s): %zu lines, each received once, "
      "%zu reconnects\n",
      ids.size(), count(after, "connection to receiver lost"));
  REQUIRE(after.find("connection to receiver lost") == std::string::npos);
  REQUIRE(proxy.connections_accepted() == 1);
  REQUIRE(d.agent().terminate(20s) == 0);
  REQUIRE(d.ingest().terminate(20s) == 0);
}

}  // namespace assas::test
