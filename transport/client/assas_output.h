#pragma once

// The native-protocol output: ships buffered batches to assas-ingest over TLS 1.3 with mutual
// authentication, on the libuv loop (uv_tcp + TlsSession; no blocking call anywhere).
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
#include "transport/output.h"
#include "transport/tls/tls_config.h"

namespace assas::transport {

struct AssasOutputOptions {
  std::string name = "assas";
  std::vector<std::string> endpoints;  // "host:port", "[::1]:6514"
  TlsConfig tls;                       // server_name empty: the endpoint's host is verified
  std::string agent_id;
  std::string host;
  uint64_t stream_id = 0;
  uint64_t max_inflight_bytes = 8ULL << 20;
  uint32_t max_frame_bytes = 16U << 20;  // largest frame accepted from the receiver
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{30000};
  std::chrono::milliseconds heartbeat_interval{10000};
  std::chrono::milliseconds heartbeat_timeout{30000};
  size_t first_endpoint = 0;                        // the preferred endpoint (index)
  std::chrono::milliseconds failback_after{60000};  // 0: stay where the last failover went
};

// Validates the options and loads the TLS material (so that --check catches a bad certificate).
Result<std::unique_ptr<Output>> make_assas_output(uv_loop_t* loop, AssasOutputOptions options);

}  // namespace assas::transport
