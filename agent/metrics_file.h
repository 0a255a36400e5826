#pragma once

// Writes the agent's metrics to a file every interval, in the Prometheus text format, replaced
// atomically: node_exporter's textfile collector (or any scraper, or a person with cat) reads it
// without the agent opening a port. The write runs on the Worker thread, never on the loop; a
// failed write (say, a full disk) is logged once per spell and tried again at the next tick.
//
// Contract: loop thread only; loop and worker outlive it. close() writes the final figures, then
// closes the timer; on_closed runs once, after which it may be destroyed.

#include <chrono>
#include <functional>
#include <string>

#include <uv.h>

#include "agent/worker.h"
#include "base/uv_util.h"

namespace assas::agent {

struct MetricsFileOptions {
  std::string path;  // empty: <data_dir>/metrics.prom
  std::chrono::milliseconds interval{10000};
};

class MetricsFile {
 public:
  MetricsFile(uv_loop_t* loop, Worker& worker, MetricsFileOptions options,
              std::function<std::string()> render);
  ~MetricsFile();
  MetricsFile(const MetricsFile&) = delete;
  MetricsFile& operator=(const MetricsFile&) = delete;

  void close(std::function<void()> on_closed);

 private:
  static void on_timer(uv_timer_t* timer) noexcept;
  void write(std::function<void()> then);
  void maybe_closed();

  Worker& worker_;
  MetricsFileOptions options_;
  std::function<std::string()> render_;
  uv_timer_t timer_{};
  bool writing_ = false;
  bool failing_ = false;  // the last write failed (logged once until one succeeds)
  bool closing_ = false;
  bool final_written_ = false;
  HandleCloser closer_;
  std::function<void()> on_closed_;
};

}  // namespace assas::agent
