#include "agent/metrics_text.h"

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

void MetricsText::sample_prefix(const MetricLabels& labels) {
  text_ += name_;
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

void MetricsText::gauge(std::string_view name, std::string_view help, uint64_t value) {
  family(name, "gauge", help);
  sample(value);
}

void MetricsText::counter(std::string_view name, std::string_view help, uint64_t value) {
  family(name, "counter", help);
  sample(value);
}

}  // namespace assas::agent
