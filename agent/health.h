#pragma once

// What /health answers: a pure evaluation of the agent's state, so that the rule is tested
// without a loop. Unhealthy means a person should look: reading is paused because the disk buffer
// is full or refuses writes (lines wait at the source, or UDP syslog is being dropped), or an
// output has had no session for longer than output_down_after (counted from the start if it never
// had one), so its backlog only grows. A slow or busy output with a session is healthy: the buffer
// is there to absorb that, and buffer_bytes and oldest_unacked_age_seconds say how much it holds.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace assas::agent {

struct HealthOutput {
  std::string name;
  bool connected = false;
  uint64_t seconds_without_session = 0;  // 0 while connected
};

struct HealthInputs {
  bool reading_paused_full = false;
  uint64_t buffer_bytes = 0;
  uint64_t oldest_unacked_age_seconds = 0;
  std::vector<HealthOutput> outputs;
};

struct HealthReport {
  bool healthy = true;
  std::vector<std::string> reasons;  // one sentence per problem, naming the output
};

HealthReport evaluate_health(const HealthInputs& inputs,
                             std::chrono::milliseconds output_down_after);

// {"status":"ok"|"unhealthy","reasons":[...],"buffer_bytes":N,"oldest_unacked_age_seconds":N,
//  "outputs":[{"name":..,"connected":true|false,"seconds_without_session":N}]}
std::string health_json(const HealthInputs& inputs, const HealthReport& report);

}  // namespace assas::agent
