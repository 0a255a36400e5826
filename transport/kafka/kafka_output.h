#pragma once

// The Kafka output (docs/outputs/kafka.md). Skeleton: filled in by the Kafka work.

#include <memory>

#include <uv.h>

#include "base/status.h"
#include "transport/broker/broker_output.h"

namespace assas::transport {

struct KafkaOutputOptions : BrokerOptions {};

Result<std::unique_ptr<Output>> make_kafka_output(uv_loop_t* loop, KafkaOutputOptions options);

}  // namespace assas::transport
