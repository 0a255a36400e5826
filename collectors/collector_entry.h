#pragma once

#include "base/config_node.h"
#include "base/status.h"

namespace assas::collectors {

// A collector's entry in `collectors:` is a map whose `type` and `name` the agent config has read
// already: they count as known keys for the collector's own no_unknown_keys().
inline Status expect_collector_entry(const ConfigNode& node) {
  ASSAS_RETURN_IF_ERROR(node.expect_map());
  (void)node.get("type");
  (void)node.get("name");
  return Status::ok();
}

}  // namespace assas::collectors
