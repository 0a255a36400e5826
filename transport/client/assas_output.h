#pragma once

// The native-protocol output: ships buffered batches to assas-ingest over TLS 1.3 with mutual
// authentication, on the libuv loop (uv_tcp + TlsSession; no blocking call anywhere). Failover,
// backoff and failback are SessionOutput's (session_output.h), shared with the syslog and RELP
// outputs.
//
// Behaviour (docs/protocol.md):
// - Connects to endpoints in order from first_endpoint (failover); on failure or disconnect moves
//   to the next one at once, and after a whole round waits with exponential backoff and full
//   jitter between backoff_min and backoff_max.
// - Failback: connected to another endpoint than the preferred one (first_endpoint) for
//   failback_after, it stops sending, waits for the acknowledgements of what is in flight (so
//   that no batch is left half-delivered at one receiver), closes, and tries the preferred one
//   again; if that still fails, failover takes it on to the next.
// - After the TLS handshake sends Hello {agent_id, host, stream_id}; on HelloOk reports
//   on_connected(stored_upto) and adopts the receiver's window (credits).
// - can_send() is true while unacknowledged batches and bytes are below the window and below the
//   agent's own max_inflight_bytes; on_writable() fires when that changes back.
// - Acks → on_acked(stored_upto). A receiver that acknowledges a seq that was never sent is
//   misbehaving: the connection is dropped with an error (nothing is released).
// - Heartbeat: a Ping every heartbeat_interval when idle; no frame for heartbeat_timeout → the
//   peer is dead, drop and reconnect.
// - Any protocol error (garbage, oversized frame, wrong version) → clear log line, drop,
//   reconnect; never a crash, never a release of unacknowledged data.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "base/status.h"
#include "transport/client/session_output.h"
#include "transport/output.h"

namespace assas::transport {

struct AssasOutputOptions : SessionOptions {
  std::string agent_id;
  std::string host;
  uint64_t stream_id = 0;
  uint32_t max_frame_bytes = 16U << 20;  // largest frame accepted from the receiver
  std::chrono::milliseconds heartbeat_interval{10000};
  std::chrono::milliseconds heartbeat_timeout{30000};
};

// Validates the options and loads the TLS material (so that --check catches a bad certificate).
Result<std::unique_ptr<Output>> make_assas_output(uv_loop_t* loop, AssasOutputOptions options);

}  // namespace assas::transport
