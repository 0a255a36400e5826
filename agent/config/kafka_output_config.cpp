// The keys of a `type: kafka` output (docs/outputs/kafka.md). Skeleton: filled in by the Kafka
// work.

#include "agent/config/output_config.h"

namespace assas::agent {

Status parse_kafka(const ConfigNode& node, OutputSpec& out) {
  transport::KafkaOutputOptions o;
  ASSAS_RETURN_IF_ERROR(parse_session(node, o));
  ASSAS_RETURN_IF_ERROR(parse_transport(node, false, out, o));
  out.options = std::move(o);
  return Status::ok();
}

}  // namespace assas::agent
