#pragma once

// Builds the Prometheus text exposition format (version 0.0.4): one "# HELP" and "# TYPE" line per
// metric family, then its samples. Label values are escaped as the format requires. Names are
// the caller's constants and are not checked.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace assas::agent {

using MetricLabels = std::vector<std::pair<std::string_view, std::string_view>>;

class MetricsText {
 public:
  // Starts a family; samples that follow belong to it.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(uint64_t value, const MetricLabels& labels = {});
  void sample_signed(int64_t value, const MetricLabels& labels = {});
  // The samples of one histogram (a family of type "histogram"): <name>_bucket{le=...} for each
  // upper bound and +Inf (cumulative), <name>_sum and <name>_count. counts holds the observations
  // of each bucket alone, one more than bounds (the last above every bound).
  void histogram(std::span<const double> bounds, std::span<const uint64_t> counts, double sum,
                 const MetricLabels& labels = {});
  // A whole family with one unlabelled sample.
  void gauge(std::string_view name, std::string_view help, uint64_t value);
  void counter(std::string_view name, std::string_view help, uint64_t value);

  const std::string& text() const { return text_; }

 private:
  void sample_prefix(const MetricLabels& labels, std::string_view suffix = {});

  std::string text_;
  std::string name_;
};

}  // namespace assas::agent
