#include "ingest/ingest_stats.h"

#include "ingest/chain_record.h"

namespace assas::ingest {
namespace {

void append_metric(std::string& out, std::string_view name, std::string_view help, uint64_t value) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ");
  out.append(name).append(" counter\n").append(name).append(" ");
  out.append(std::to_string(value)).append("\n");
}

void append_header(std::string& out, std::string_view name, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ");
  out.append(name).append(" counter\n");
}

void append_sample(std::string& out, std::string_view name, std::string_view label,
                   std::string_view label_value, uint64_t value) {
  out.append(name).append("{").append(label).append("=\"").append(label_value).append("\"} ");
  out.append(std::to_string(value)).append("\n");
}

}  // namespace

void StoreCounts::count_status(std::string_view status) {
  if (is_break_status(status)) {
    ++chain_breaks;
  }
  while (true) {
    size_t plus = status.find('+');
    std::string_view word = status.substr(0, plus);
    for (size_t i = 0; i < kChainStatusWords.size(); ++i) {
      if (kChainStatusWords[i] == word) {
        ++chain_status[i];
      }
    }
    if (plus == std::string_view::npos) {
      return;
    }
    status.remove_prefix(plus + 1);
  }
}

void StoreCounts::add(const StoreCounts& other) {
  batches += other.batches;
  events += other.events;
  duplicates += other.duplicates;
  for (size_t i = 0; i < chain_status.size(); ++i) {
    chain_status[i] += other.chain_status[i];
  }
  chain_breaks += other.chain_breaks;
  signatures_ok += other.signatures_ok;
  signatures_bad += other.signatures_bad;
}

std::string render_ingest_metrics(const StoreCounts& totals) {
  std::string out;
  append_metric(out, "assas_ingest_batches_stored_total",
                "Batches stored: written, fdatasync'ed and committed before their ack.",
                totals.batches);
  append_metric(out, "assas_ingest_events_stored_total", "Events in the stored batches.",
                totals.events);
  append_metric(out, "assas_ingest_duplicate_batches_total",
                "Batches dropped because their seq was already stored (acknowledged again).",
                totals.duplicates);
  constexpr std::string_view kChain = "assas_ingest_chain_batches_total";
  append_header(out, kChain,
                "Stored batches by chain verdict on receipt (a batch with several words counts "
                "under each).");
  for (size_t i = 0; i < kChainStatusWords.size(); ++i) {
    append_sample(out, kChain, "status", kChainStatusWords[i], totals.chain_status[i]);
  }
  append_metric(out, "assas_ingest_chain_breaks_total",
                "Stored batches whose verdict holds any break.", totals.chain_breaks);
  constexpr std::string_view kSignatures = "assas_ingest_chain_signatures_total";
  append_header(out, kSignatures,
                "Checkpoint signatures checked on receipt against the agent's certificate.");
  append_sample(out, kSignatures, "result", "ok", totals.signatures_ok);
  append_sample(out, kSignatures, "result", "bad", totals.signatures_bad);
  return out;
}

}  // namespace assas::ingest
