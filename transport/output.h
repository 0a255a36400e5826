#pragma once

// What the agent's shipper drives: an Output sends buffered batches to a receiver and reports back
// what the receiver has durably stored. transport/ implements it (the native assas
// protocol, syslog, RELP) and never sees agent types, so the shipper speaks to it in these terms.
//
// The contract, all on the loop thread:
//   - start(listener): connect (and keep reconnecting with backoff) in the background.
//   - listener.on_connected(stored_upto): a session is up; the receiver already holds every batch
//     with seq <= stored_upto of this stream. The shipper (re)sends from the first batch after it.
//     An error refuses the session (the receiver claims a seq the agent never made): the output
//     drops it as a protocol error and tries again later, and nothing counts as acknowledged.
//   - can_send() / send(batch): send only while can_send() is true (credits from the receiver).
//   - listener.on_acked(upto): the receiver durably stored every batch with seq <= upto.
//   - listener.on_writable(): can_send() may have become true again.
//   - listener.on_disconnected(why): the session is gone; whatever was sent and not acknowledged
//     must be sent again after the next on_connected.
//   - close(on_closed): stop, close handles; on_closed runs exactly once, after which the output
//     may be destroyed.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "transport/protocol/chain.h"
#include "transport/protocol/compression.h"
#include "transport/tls/certificate_expiry.h"

namespace assas::transport {

// One buffered batch as it goes on the wire.
struct OutgoingBatch {
  uint64_t seq = 0;
  uint32_t event_count = 0;
  uint32_t raw_size = 0;  // size before compression
  Codec codec = Codec::kZstd;
  // The compressed batch payload (transport/protocol/batch_codec.h before compression). Shared
  // with the disk buffer's cache, never modified.
  std::shared_ptr<const std::string> payload;
  // The batch's place in the agent's hash chain (docs/integrity.md); the native output sends it,
  // the others have no field for it.
  BatchChain chain;
};

// What an output reports for metrics (docs/metrics.md). Counters only grow.
struct OutputStats {
  bool connected = false;
  uint64_t connects = 0;            // sessions that reached hello_ok
  uint64_t connect_failures = 0;    // attempts that ended before hello_ok (each one a retry)
  uint64_t disconnects = 0;         // sessions lost after hello_ok
  uint64_t heartbeat_timeouts = 0;  // sessions dropped because the receiver went silent
  uint64_t protocol_errors = 0;     // sessions dropped because the receiver broke the protocol
  uint64_t failbacks = 0;           // sessions moved back to the preferred endpoint
  uint64_t inflight_batches = 0;    // sent, not yet acknowledged
  uint64_t inflight_bytes = 0;
  uint64_t inflight_bytes_peak = 0;  // the most ever held unacknowledged
  uint64_t messages_truncated = 0;   // syslog and RELP: messages cut to max_message_size
  uint64_t events_too_large = 0;  // nats and kafka: events over the engine's message size, left out
  uint64_t bytes_sent = 0;        // written to the connection (TLS included), resends too
};

class OutputListener {
 public:
  virtual ~OutputListener() = default;
  virtual Status on_connected(uint64_t stored_upto) = 0;
  virtual void on_acked(uint64_t upto) = 0;
  virtual void on_writable() = 0;
  virtual void on_disconnected(const Status& why) = 0;
};

class Output {
 public:
  virtual ~Output() = default;
  virtual const std::string& name() const = 0;
  virtual Status start(OutputListener& listener) = 0;
  virtual bool can_send() const = 0;
  virtual void send(OutgoingBatch batch) = 0;
  virtual OutputStats stats() const = 0;
  // Appends the certificate files this output is configured with (for their expiry metric).
  virtual void certificate_files(std::vector<CertificateFile>& out) const { (void)out; }
  virtual void close(std::function<void()> on_closed) = 0;
};

}  // namespace assas::transport
