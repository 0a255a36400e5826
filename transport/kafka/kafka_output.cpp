#include "transport/kafka/kafka_output.h"

#include <utility>
#include <vector>

#include "transport/client/session_output.h"
#include "transport/kafka/kafka_client.h"
#include "transport/kafka/kafka_properties.h"
#include "transport/kafka/kafka_template.h"
#include "transport/tls/tls_context.h"

namespace assas::transport {

Result<std::unique_ptr<Output>> make_kafka_output(uv_loop_t* loop, KafkaOutputOptions options) {
  if (options.topic.empty()) {
    return invalid_argument("topic: name the Kafka topic the events go to");
  }
  Result<KafkaTemplate> key = KafkaTemplate::parse(options.key);
  if (!key.is_ok()) {
    return key.status().with_context("key");
  }
  // The endpoints, and the TLS files loaded once here so that --check names a bad one (librdkafka
  // would only say so when it connects); librdkafka loads them again itself.
  std::vector<Endpoint> endpoints;
  std::shared_ptr<TlsContext> tls;
  ASSAS_RETURN_IF_ERROR(prepare_session(options, endpoints, tls));
  Result<KafkaProperties> properties = kafka_properties(options);
  if (!properties.is_ok()) {
    return properties.status();
  }
  // Every property is set once here too, so that an unknown librdkafka: key fails the check.
  Result<rd_kafka_conf_t*> conf = make_kafka_conf(*properties);
  if (!conf.is_ok()) {
    return conf.status();
  }
  rd_kafka_conf_destroy(*conf);
  auto client =
      std::make_unique<KafkaClient>(options, std::move(properties).value(), std::move(key).value());
  return std::unique_ptr<Output>(
      std::make_unique<BrokerOutput>(loop, std::move(options), std::move(client)));
}

}  // namespace assas::transport
