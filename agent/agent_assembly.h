#pragma once

// Builds what an Agent runs from a loaded config: its options, its collectors and its outputs
// (one Output per lane). Shared by the start, a reload and --check, so that a config that checks
// is a config that starts.

#include <cstdint>
#include <memory>
#include <vector>

#include <uv.h>

#include "agent/agent.h"
#include "agent/config/agent_config.h"
#include "base/status.h"

namespace assas::agent {

AgentOptions make_agent_options(const AgentConfig& config);

// Every configured output as its lanes. Whatever was made is in `outputs`, also after a failure:
// each owns handles that must be closed, and the loop run, before it may be destroyed.
Status make_outputs(uv_loop_t* loop, const AgentConfig& config, uint64_t stream_id,
                    std::vector<OutputLanes>& outputs);
void close_outputs(std::vector<OutputLanes>& outputs);

// Every collector, built but not started.
Result<std::vector<std::unique_ptr<Collector>>> make_collectors(uv_loop_t* loop,
                                                                const AgentConfig& config);

// Loads path and checks everything a start would, without starting: the syntax and values, the
// files the config names (certificates, keys, CAs, their permissions), every collector's keys,
// and the outputs as they would be made (loading the certificates and keys into TLS contexts), on
// a loop of its own. The error names the file and what to fix.
Result<AgentConfig> load_checked_agent_config(const std::string& path);

}  // namespace assas::agent
