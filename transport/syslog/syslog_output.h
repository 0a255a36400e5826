#pragma once

// The syslog output (docs/outputs/syslog.md): each event as one RFC 5424 message to a syslog
// receiver (rsyslog, syslog-ng, a SIEM) over TLS (RFC 5425), plain TCP (RFC 6587) or UDP
// (RFC 5426). Failover, backoff and failback are SessionOutput's.
//
// Syslog has no acknowledgements, so the most a sender can know is what the receiver's TCP
// acknowledged: a batch counts as delivered (and may leave the disk buffer) once every byte of it
// was acknowledged by the receiver's kernel (SIOCOUTQ), never merely when it was written to our
// socket. A connection that breaks sends again everything not yet so acknowledged: nothing is lost
// in the network, and a duplicate is possible only for bytes whose TCP acknowledgement was lost
// with the connection. What the receiver loses after its kernel took the bytes (a crash, a restart
// with messages in memory) no syslog sender can see: that is what RELP is for. Over UDP a batch
// is done once the kernel sent its datagrams.
//
// Backpressure: at most max_inflight_bytes are written and not yet acknowledged; TCP's own flow
// control holds the rest in the disk buffer.

#include <memory>

#include <uv.h>

#include "base/status.h"
#include "transport/client/session_output.h"
#include "transport/output.h"
#include "transport/syslog/syslog_writer.h"

namespace assas::transport {

enum class SyslogFraming {
  kOctetCounting,  // RFC 5425 / RFC 6587 3.4.1: "LEN SP MSG"; the message may hold newlines
  kNewline,        // RFC 6587 3.4.2: "MSG LF"; a newline inside a message is sent as "#012"
};

struct SyslogOutputOptions : SessionOptions {
  // What is held is formatted messages, not compressed batches: 1 MiB keeps the agent small and
  // the receiver busy (measured in bench/outputs.sh).
  SyslogOutputOptions() { max_inflight_bytes = 1 << 20; }
  SyslogFormat format;
  SyslogFraming framing = SyslogFraming::kOctetCounting;
  size_t max_message_bytes = 64 << 10;  // longer messages are cut (counted)
};

Result<std::unique_ptr<Output>> make_syslog_output(uv_loop_t* loop, SyslogOutputOptions options);

// Appends one formatted message to out as framing says. Whatever the message holds, the receiver
// reads exactly one message from it: octet counting frames it by its length, and newline framing
// sends each LF inside it as "#012".
void append_syslog_frame(SyslogFraming framing, std::string_view message, std::string& out);

}  // namespace assas::transport
