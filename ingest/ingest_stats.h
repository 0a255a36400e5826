#pragma once

// What assas-ingest counts, and its Prometheus text (docs/metrics.md, "assas-ingest").
//
// A StoreCounts is filled by an AgentStore on the thread pool for what it committed, handed back
// to the loop with its job's results, and added there to IngestService's totals: the totals are
// touched only on the loop thread, so no counter is shared between threads.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace assas::ingest {

// The status words of a chain verdict, in the order the metrics list them.
inline constexpr std::array<std::string_view, 9> kChainStatusWords = {
    "ok",         "start",         "lane",           "gap", "restart", "unchained",
    "break-link", "break-missing", "break-signature"};

struct StoreCounts {
  uint64_t batches = 0;     // stored and committed
  uint64_t events = 0;      // in those batches
  uint64_t duplicates = 0;  // batches dropped as already stored
  std::array<uint64_t, kChainStatusWords.size()> chain_status{};  // by kChainStatusWords
  uint64_t chain_breaks = 0;                                      // batches with any break-... word
  uint64_t signatures_ok = 0;
  uint64_t signatures_bad = 0;

  // Counts one stored batch's status ("break-link+break-signature" counts under both words, and
  // once as a break).
  void count_status(std::string_view status);
  void add(const StoreCounts& other);
};

// The metrics as Prometheus text (version 0.0.4), every series present from the start.
std::string render_ingest_metrics(const StoreCounts& totals);

}  // namespace assas::ingest
