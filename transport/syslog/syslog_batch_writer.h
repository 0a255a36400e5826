#pragma once

// Turns one buffered batch (compressed, as the disk buffer holds it) into RFC 5424 messages, one
// per event, for the outputs that speak syslog (syslog, RELP). Messages longer than the output's
// limit are cut there (at a UTF-8 character boundary) and counted: a receiver would otherwise
// drop or split them.
//
// Loop thread of its output only (it keeps one decompression context).

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "transport/output.h"
#include "transport/protocol/compression.h"
#include "transport/syslog/syslog_writer.h"

namespace assas::transport {

class SyslogBatchWriter {
 public:
  SyslogBatchWriter(SyslogFormat format, size_t max_message_bytes);

  // Calls on_message for each event of batch, in order; the view is valid during the call only.
  // kCorruption when the batch cannot be decoded; the caller then discards the messages it got.
  Status write(const OutgoingBatch& batch,
               const std::function<void(std::string_view message)>& on_message);
  uint64_t truncated_messages() const { return truncated_; }

 private:
  SyslogFormat format_;
  size_t max_message_bytes_;
  Decompressor decompressor_;
  std::string raw_;      // the decompressed batch
  std::string message_;  // reused for each message
  uint64_t truncated_ = 0;
};

}  // namespace assas::transport
