#pragma once

// The BrokerClient of the Kafka output: one librdkafka idempotent producer per session. Each event
// of a batch is one record (value: the event's JSON, key: the key template, headers: agent, stream,
// seq and index so that a consumer can drop the duplicates a new session may cause). The batch is
// done when every record got a successful delivery report; the first error fails it. Delivery
// reports, errors and logs are served by rd_kafka_poll() on the publisher thread.
//
// Publisher thread only (BrokerOutput's contract); librdkafka's log callback runs on its threads.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include <librdkafka/rdkafka.h>

#include "transport/broker/broker_output.h"
#include "transport/kafka/kafka_output.h"
#include "transport/kafka/kafka_properties.h"
#include "transport/kafka/kafka_template.h"

namespace assas::transport {

class KafkaClient final : public BrokerClient {
 public:
  KafkaClient(const KafkaOutputOptions& options, KafkaProperties properties, KafkaTemplate key);
  ~KafkaClient() override;
  KafkaClient(const KafkaClient&) = delete;
  KafkaClient& operator=(const KafkaClient&) = delete;

  Status connect() override;
  Status publish(const EncodedBatch& batch, PublishDone done) override;
  void poll(std::chrono::milliseconds timeout) override;
  bool needs_polling() const override { return true; }
  void disconnect() override;
  uint64_t bytes_sent() const override { return bytes_sent_; }
  // message.max.bytes counts the key, the headers and the record's framing too.
  size_t max_event_bytes() const override;

 private:
  // One batch's records in librdkafka: done runs once, when the last report came or at the first
  // error. Kept until every produced record has reported (or the producer is destroyed).
  struct Pending {
    PublishDone done;
    uint64_t seq = 0;
    size_t unreported = 0;    // produced, report not yet served
    bool finished = false;    // done ran (or publish returned an error, which BrokerOutput reports)
    bool publishing = false;  // publish() is still producing its records
  };

  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  static void on_log(const rd_kafka_t* rk, int level, const char* facility, const char* text);
  // Produces one record, waiting (polling) while librdkafka's queue is full.
  rd_kafka_resp_err_t produce(const EncodedBatch& batch, size_t index, uint64_t id);
  Status check_topic();

  KafkaOutputOptions options_;
  KafkaProperties properties_;
  KafkaTemplate key_;
  std::string stream_hex_;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_topic_t* topic_ = nullptr;
  bool closing_ = false;
  std::string fatal_;  // librdkafka's fatal error, if one came: the session must end
  uint64_t next_pending_ = 0;
  std::map<uint64_t, Pending> pending_;
  uint64_t bytes_sent_ = 0;
  std::string key_buffer_;
};

}  // namespace assas::transport
