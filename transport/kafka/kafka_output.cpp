#include "transport/kafka/kafka_output.h"

namespace assas::transport {

Result<std::unique_ptr<Output>> make_kafka_output(uv_loop_t* /*loop*/,
                                                  KafkaOutputOptions /*options*/) {
  return internal_error("the kafka output is not built yet");
}

}  // namespace assas::transport
