#pragma once

// The NATS JetStream output (docs/outputs/nats.md). Skeleton: filled in by the NATS work.

#include <memory>

#include <uv.h>

#include "base/status.h"
#include "transport/broker/broker_output.h"

namespace assas::transport {

struct NatsOutputOptions : BrokerOptions {};

Result<std::unique_ptr<Output>> make_nats_output(uv_loop_t* loop, NatsOutputOptions options);

}  // namespace assas::transport
