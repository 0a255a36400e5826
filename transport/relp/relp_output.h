#pragma once

// The RELP output (docs/outputs/relp.md): each event as one RFC 5424 message in a RELP `syslog`
// command to rsyslog's imrelp (or any librelp server), optionally over TLS. Failover, backoff and
// failback are SessionOutput's.
//
// RELP acknowledges every message (`rsp 200`), so a batch leaves the disk buffer only once the
// receiver has answered for each of its messages: the same at-least-once guarantee, end to end,
// as our own protocol. After a reconnect everything unanswered is sent again; the messages of a
// batch that were already answered are not (the output remembers how far into its oldest batch
// the answers went), so a receiver restart mid-stream neither loses nor doubles a line. Only an
// agent crash between a message's answer and its whole batch's can repeat those messages.
//
// Backpressure: at most `window` messages are unanswered at a time (librelp's own idea of a
// window), and at most max_inflight_bytes of formatted messages are held.

#include <memory>

#include <uv.h>

#include "base/status.h"
#include "transport/client/session_output.h"
#include "transport/output.h"
#include "transport/syslog/syslog_writer.h"

namespace assas::transport {

struct RelpOutputOptions : SessionOptions {
  RelpOutputOptions() { max_inflight_bytes = 1 << 20; }  // formatted messages, as for syslog
  SyslogFormat format;
  size_t max_message_bytes = 64 << 10;  // longer messages are cut (counted)
  uint32_t window = 4096;               // messages sent and not yet answered
};

Result<std::unique_ptr<Output>> make_relp_output(uv_loop_t* loop, RelpOutputOptions options);

}  // namespace assas::transport
