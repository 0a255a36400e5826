#pragma once

// The stream check at connect: with create, the stream is made (or its limits updated) as the
// config says; without, it must exist and cover the output's subjects. A stream whose duplicate
// window is shorter than configured is only warned about (the operator may know better), since
// it narrows the de-duplication guarantee (docs/outputs/nats.md).

#include <string_view>

#include <nats/nats.h>

#include "base/status.h"
#include "transport/nats/nats_output.h"

namespace assas::transport {

// Publisher thread; js is connected.
Status ensure_nats_stream(jsCtx* js, const NatsStreamOptions& stream,
                          std::string_view subject_template, std::string_view output);

}  // namespace assas::transport
