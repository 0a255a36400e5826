#include "agent/health.h"

#include <string_view>

namespace assas::agent {
namespace {

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      constexpr std::string_view hex = "0123456789abcdef";
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace

HealthReport evaluate_health(const HealthInputs& inputs,
                             std::chrono::milliseconds output_down_after) {
  HealthReport report;
  if (inputs.reading_paused_full) {
    report.reasons.emplace_back("reading is paused: the disk buffer is full or refuses writes");
  }
  for (const HealthOutput& output : inputs.outputs) {
    auto down = std::chrono::seconds(output.seconds_without_session);
    if (!output.connected && down > output_down_after) {
      report.reasons.push_back("output '" + output.name + "' has had no session for " +
                               std::to_string(output.seconds_without_session) + " s");
    }
  }
  report.healthy = report.reasons.empty();
  return report;
}

std::string health_json(const HealthInputs& inputs, const HealthReport& report) {
  std::string out = "{\"status\":";
  out += report.healthy ? "\"ok\"" : "\"unhealthy\"";
  out += ",\"reasons\":[";
  for (size_t i = 0; i < report.reasons.size(); ++i) {
    out += i == 0 ? "" : ",";
    append_json_string(out, report.reasons[i]);
  }
  out += "],\"buffer_bytes\":" + std::to_string(inputs.buffer_bytes);
  out += ",\"oldest_unacked_age_seconds\":" + std::to_string(inputs.oldest_unacked_age_seconds);
  out += ",\"outputs\":[";
  for (size_t i = 0; i < inputs.outputs.size(); ++i) {
    const HealthOutput& o = inputs.outputs[i];
    out += i == 0 ? "{\"name\":" : ",{\"name\":";
    append_json_string(out, o.name);
    out += ",\"connected\":";
    out += o.connected ? "true" : "false";
    out += ",\"seconds_without_session\":" + std::to_string(o.seconds_without_session) + "}";
  }
  out += "]}\n";
  return out;
}

}  // namespace assas::agent
