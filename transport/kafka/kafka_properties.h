#pragma once

// The librdkafka configuration of a Kafka output: the properties that make the guarantee
// (idempotent producer, acks=all, bounded queue), the TLS and SASL ones, and the user's own extra
// properties, of which those that would break the guarantee are refused.

#include <string>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "base/status.h"
#include "transport/kafka/kafka_output.h"

namespace assas::transport {

using KafkaProperties = std::vector<std::pair<std::string, std::string>>;

// Every property of options, in the order they are set; reads the SASL password file (refused if
// readable by group or others). The result holds the password: never log it.
Result<KafkaProperties> kafka_properties(const KafkaOutputOptions& options);

// A librdkafka configuration with properties set (the caller owns it). An unknown property or a
// bad value is an error naming it (and never the value of a secret).
Result<rd_kafka_conf_t*> make_kafka_conf(const KafkaProperties& properties);

}  // namespace assas::transport
