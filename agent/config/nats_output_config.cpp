// The keys of a `type: nats` output (docs/outputs/nats.md). Skeleton: filled in by the Nats work.

#include "agent/config/output_config.h"

namespace assas::agent {

Status parse_nats(const ConfigNode& node, OutputSpec& out) {
  transport::NatsOutputOptions o;
  ASSAS_RETURN_IF_ERROR(parse_session(node, o));
  ASSAS_RETURN_IF_ERROR(parse_transport(node, false, out, o));
  out.options = std::move(o);
  return Status::ok();
}

}  // namespace assas::agent
