#include "agent/metrics_text.h"

#include <charconv>

namespace assas::agent {

void MetricsText::family(std::string_view name, std::string_view type, std::string_view help) {
  name_ = name;
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  text_ += help;
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += ' ';
  text_ += type;
  text_ += '\n';
}

namespace {

// The shortest text that reads back as the same double: "0.005", "1", "2.5".
std::string number_text(double value) {
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc() ? std::string(buffer, end) : std::string("NaN");
}

}  // namespace

void MetricsText::sample_prefix(const MetricLabels& labels, std::string_view suffix) {
  text_ += name_;
  text_ += suffix;
  if (!labels.empty()) {
    text_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      text_ += i == 0 ? "" : ",";
      text_ += labels[i].first;
      text_ += "=\"";
      for (char c : labels[i].second) {
        if (c == '\\' || c == '"') {
          text_ += '\\';
          text_ += c;
        } else if (c == '\n') {
          text_ += "\\n";
        } else {
          text_ += c;
        }
      }
      text_ += '"';
    }
    text_ += '}';
  }
  text_ += ' ';
}

void MetricsText::sample(uint64_t value, const MetricLabels& labels) {
  sample_prefix(labels);
  text_ += std::to_string(value);
  text_ += '\n';
}

void MetricsText::sample_signed(int64_t value, const MetricLabels& labels) {
  sample_prefix(labels);
  text_ += std::to_string(value);
  text_ += '\n';
}

void MetricsText::histogram(std::span<const double> bounds, std::span<const uint64_t> counts,
                            double sum, const MetricLabels& labels) {
  MetricLabels with_le = labels;
  with_le.emplace_back("le", "");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    std::string le = i < bounds.size() ? number_text(bounds[i]) : std::string("+Inf");
    with_le.back().second = le;
    sample_prefix(with_le, "_bucket");
    text_ += std::to_string(cumulative);
    text_ += '\n';
  }
  sample_prefix(labels, "_sum");
  text_ += number_text(sum);
  text_ += '\n';
  sample_prefix(labels, "_count");
  text_ += std::to_string(cumulative);
  text_ += '\n';
}

void MetricsText::gauge(std::string_view name, std::string_view help, uint64_t value) {
  family(name, "gauge", help);
  sample(value);
}

void MetricsText::counter(std::string_view name, std::string_view help, uint64_t value) {
  family(name, "counter", help);
  sample(value);
}

}  // namespace assas::agent
