#pragma once

// The one place that names every collector type: type → {check the config, make the collector}.
// A plain table, not self-registration, so nothing depends on static initialisers in static
// libraries.

#include <memory>
#include <string>

#include <uv.h>

#include "agent/collector.h"
#include "base/config_node.h"
#include "base/status.h"

namespace assas::collectors {

// Parses the collector's keys only (for --check); errors point into node.
Status check_collector_config(const std::string& type, const std::string& name,
                              const ConfigNode& node);
Result<std::unique_ptr<agent::Collector>> make_collector(uv_loop_t* loop, const std::string& type,
                                                         const std::string& name,
                                                         const ConfigNode& node);

}  // namespace assas::collectors
