#pragma once

// The Kafka output (docs/outputs/kafka.md): one Kafka record per event through librdkafka's
// idempotent producer (enable.idempotence, acks=all), the value being the JSON object that
// assas-ingest writes, the key naming the agent by default so that one agent's events stay in one
// partition and in order. BrokerOutput (transport/broker/) runs it; a batch is acknowledged once
// every one of its records got a successful delivery report.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <uv.h>

#include "base/status.h"
#include "transport/broker/broker_output.h"

namespace assas::transport {

// sasl: {mechanism, username, password_file}; mechanism empty: no SASL.
struct KafkaSasl {
  std::string mechanism;  // PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
  std::string username;
  std::string password_file;  // refused if readable by group or others
};

struct KafkaOutputOptions : BrokerOptions {
  std::string topic;
  // The record key: a template of {agent}, {host} and {collector} (kafka_template.h).
  std::string key = "{agent}";
  std::string compression = "zstd";  // zstd, lz4, snappy, gzip, none: done by librdkafka
  // librdkafka's message.timeout.ms: how long it retries a record (without duplicating or
  // reordering it) before the batch fails and the session starts again.
  std::chrono::milliseconds delivery_timeout{300000};
  std::chrono::milliseconds linger{5};   // linger.ms
  uint64_t max_message_bytes = 1000000;  // message.max.bytes; the broker's limit is the same
  KafkaSasl sasl;
  // Other librdkafka properties, as they are (kafka_properties() refuses the guarantee's own).
  std::vector<std::pair<std::string, std::string>> librdkafka;
};

Result<std::unique_ptr<Output>> make_kafka_output(uv_loop_t* loop, KafkaOutputOptions options);

}  // namespace assas::transport
