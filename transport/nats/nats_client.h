#pragma once

// The BrokerClient of the NATS output: one cnats connection and JetStream context per session,
// asynchronous publishes with per-message de-duplication ids, and a batch reported done once
// JetStream answered for each of its messages (or at its first error).
//
// Threads: connect, publish and disconnect run on BrokerOutput's publisher thread; cnats calls
// on_ack and on_disconnected from threads of its own. Those callbacks find their client through
// a process-wide registry of live sessions, by a token that is never reused: a callback for a
// session already disconnected (or a client already destroyed) finds nothing and does nothing, so
// no PublishDone runs after disconnect() returns.

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nats/nats.h>

#include "base/status.h"
#include "transport/broker/broker_output.h"
#include "transport/nats/nats_output.h"

namespace assas::transport {

class NatsClient final : public BrokerClient {
 public:
  explicit NatsClient(NatsOutputOptions options);
  ~NatsClient() override;
  NatsClient(const NatsClient&) = delete;
  NatsClient& operator=(const NatsClient&) = delete;

  // BrokerClient
  Status connect() override;
  Status publish(const EncodedBatch& batch, PublishDone done) override;
  void disconnect() override;
  uint64_t bytes_sent() const override { return bytes_sent_.load(std::memory_order_relaxed); }
  // The server's max_payload less the room for headers, once connected.
  size_t max_event_bytes() const override {
    return max_body_bytes_ > 0 ? max_body_bytes_ - 1 : SIZE_MAX;  // 1: the line's newline
  }

 private:
  struct Pending {
    PublishDone done;
    size_t remaining = 0;
  };
  // One message of a batch: its subject, body and the index of its first event.
  struct Message {
    std::string subject;
    std::string body;
    int64_t first_event = -1;
  };

  static void on_ack(jsCtx* js, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error,
                     void* closure) noexcept;
  static void on_disconnected(natsConnection* connection, void* closure) noexcept;
  // Registry lock held.
  void settle(uint64_t seq, const Status& status);

  Status open_connection();
  void split(const EncodedBatch& batch, std::vector<Message>& out) const;
  Status send_message(uint64_t seq, const Message& message);

  NatsOutputOptions options_;
  std::vector<std::string> urls_;
  natsConnection* connection_ = nullptr;
  jsCtx* js_ = nullptr;
  uint64_t token_ = 0;  // of the current session; 0: none
  size_t max_body_bytes_ = 0;
  int64_t publish_wait_ms_ = 1000;
  std::atomic<uint64_t> bytes_sent_{0};
  std::vector<Message> messages_;  // reused across publishes
  // Under the registry's lock.
  std::map<uint64_t, Pending> pending_;
  bool lost_ = false;
};

}  // namespace assas::transport
