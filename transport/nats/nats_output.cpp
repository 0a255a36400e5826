#include "transport/nats/nats_output.h"

namespace assas::transport {

Result<std::unique_ptr<Output>> make_nats_output(uv_loop_t* /*loop*/,
                                                 NatsOutputOptions /*options*/) {
  return internal_error("the nats output is not built yet");
}

}  // namespace assas::transport
