// The keys of a `type: kafka` output (docs/outputs/kafka.md): the topic, the record key, the
// producer's few knobs, SASL, and librdkafka's other properties as an escape hatch. What would
// break the delivery guarantee is not configurable (transport/kafka/kafka_properties.cpp).

#include "agent/config/output_config.h"
#include "transport/kafka/kafka_template.h"

namespace assas::agent {
namespace {

using std::chrono::milliseconds;

Status parse_sasl(const ConfigNode& node, OutputSpec& out, transport::KafkaSasl& sasl) {
  std::optional<ConfigNode> s = node.get("sasl");
  if (!s) {
    return Status::ok();
  }
  ASSAS_RETURN_IF_ERROR(s->expect_map());
  std::string mechanism = "SCRAM-SHA-512";
  ASSAS_RETURN_IF_ERROR(
      s->optional_choice("mechanism", mechanism, {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}));
  ASSAS_RETURN_IF_ERROR(s->required_string("username", sasl.username));
  ASSAS_RETURN_IF_ERROR(s->required_string("password_file", sasl.password_file));
  sasl.mechanism = mechanism;
  // Checked with the key files (present, and readable by the agent's user only), at its line.
  out.file_nodes.emplace_back(*s->get("password_file"), true);
  return s->no_unknown_keys();
}

}  // namespace

Status parse_kafka(const ConfigNode& node, OutputSpec& out) {
  transport::KafkaOutputOptions o;
  ASSAS_RETURN_IF_ERROR(parse_session(node, o));
  ASSAS_RETURN_IF_ERROR(parse_transport(node, false, out, o));
  if (std::optional<ConfigNode> tls = node.get("tls")) {
    // librdkafka verifies the name each broker advertises, and cannot be held to TLS 1.3.
    if (tls->has("server_name")) {
      return tls->get("server_name")
          ->error(
              "server_name is not supported for kafka: each broker's certificate must name "
              "the host it advertises");
    }
    if (!o.tls_policy.allow_tls12) {
      return tls->get("min_version")
          ->error(
              "min_version 1.3 is not supported for kafka (librdkafka negotiates TLS 1.2 or "
              "1.3); remove it");
    }
  }
  ASSAS_RETURN_IF_ERROR(node.required_string("topic", o.topic));
  if (o.topic.size() > 249) {
    return node.get("topic")->error("Kafka topic names are at most 249 characters");
  }
  ASSAS_RETURN_IF_ERROR(node.optional_string("key", o.key));
  if (Result<transport::KafkaTemplate> key = transport::KafkaTemplate::parse(o.key); !key.is_ok()) {
    return node.get("key")->error(key.status().message());
  }
  ASSAS_RETURN_IF_ERROR(node.optional_choice("compression", o.compression,
                                             {"zstd", "lz4", "snappy", "gzip", "none"}));
  ASSAS_RETURN_IF_ERROR(node.optional_millis("delivery_timeout", o.delivery_timeout,
                                             milliseconds(1000), milliseconds(86400000)));
  ASSAS_RETURN_IF_ERROR(
      node.optional_millis("linger", o.linger, milliseconds(0), milliseconds(10000)));
  if (o.linger >= o.delivery_timeout) {
    return node.get("linger")->error("linger must be shorter than delivery_timeout");
  }
  ASSAS_RETURN_IF_ERROR(node.optional_millis("ack_timeout", o.ack_timeout, milliseconds(1000),
                                             milliseconds(86400000)));
  ASSAS_RETURN_IF_ERROR(
      node.optional_size("max_message_size", o.max_message_bytes, 1000, 1000000000));
  uint64_t batches = o.max_inflight_batches;
  ASSAS_RETURN_IF_ERROR(node.optional_uint("max_inflight_batches", batches, 1, 4096));
  o.max_inflight_batches = static_cast<uint32_t>(batches);
  ASSAS_RETURN_IF_ERROR(parse_sasl(node, out, o.sasl));
  ASSAS_RETURN_IF_ERROR(node.optional_string_map("librdkafka", o.librdkafka));
  out.options = std::move(o);
  return Status::ok();
}

}  // namespace assas::agent
