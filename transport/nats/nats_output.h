#pragma once

// The NATS JetStream output (docs/outputs/nats.md): BrokerOutput driving cnats. Each batch is
// published as one message per subject (publish: batch) or one message per event (publish:
// event), asynchronously, and acknowledged to the shipper only once JetStream has answered for
// every message of it. Every message carries a Nats-Msg-Id made from (agent id, stream id, seq,
// first event), so the resends after a reconnect or an agent restart are dropped by the stream's
// duplicate window. At most max_pending_acks messages await their JetStream answer (cnats's
// PublishAsync.MaxPending): beyond that, publishing waits, and the shipper's batches stay in the
// disk buffer.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "base/status.h"
#include "transport/broker/broker_output.h"

namespace assas::transport {

// How a client proves who it is to the NATS servers (at most one of the three ways).
struct NatsCredentials {
  std::string user;
  std::string password;       // from the config or read from password_file
  std::string password_file;  // for the error messages; the password itself is in password
  std::string nkey;           // the user's public NKey ("U...")
  std::string nkey_seed_file;
  std::string creds_file;  // a decentralised-auth .creds file (JWT and seed)
};

// The JetStream stream the subjects belong to, checked (and with create, made or updated) at
// every connect.
struct NatsStreamOptions {
  std::string name;  // empty: nothing is checked and publishes do not name their stream
  bool create = false;
  int64_t replicas = 3;
  std::chrono::milliseconds max_age{0};  // 0: unlimited
  int64_t max_bytes = -1;                // -1: unlimited
  std::chrono::milliseconds duplicate_window{std::chrono::hours(1)};
  std::vector<std::string> subjects;  // empty: the subject template with '*' for placeholders
};

enum class NatsPublishMode { kBatch, kEvent };

struct NatsOutputOptions : BrokerOptions {
  std::string subject = "logs.{agent}.{collector}";
  NatsPublishMode publish = NatsPublishMode::kBatch;
  NatsCredentials credentials;
  uint32_t max_pending_acks = 4096;
  NatsStreamOptions stream;
};

// Checks the options (subject template, credentials, stream) and loads the TLS material, so that
// --check reports a bad CA, certificate or key by its file name. Loop thread.
Result<std::unique_ptr<Output>> make_nats_output(uv_loop_t* loop, NatsOutputOptions options);

}  // namespace assas::transport
