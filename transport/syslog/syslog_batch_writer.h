#pragma once

// Turns one buffered batch (compressed, as the disk buffer holds it) into RFC 5424 messages, one
// per event, for the outputs that speak syslog (syslog, RELP). Messages longer than the output's
// limit are cut there (at a UTF-8 character boundary) and counted: a receiver would otherwise
// drop or split them.
//
// Loop thread of its output only (it keeps one decompression context).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "transport/output.h"
#include "transport/protocol/compression.h"
#include "transport/syslog/syslog_writer.h"

namespace assas::transport {

// One batch as formatted messages, one after the other.
struct FormattedBatch {
  std::string messages;
  std::vector<size_t> ends;  // where each message ends in messages
  size_t size() const { return ends.size(); }
  std::string_view message(size_t i) const {
    size_t begin = i == 0 ? 0 : ends[i - 1];
    return std::string_view(messages).substr(begin, ends[i] - begin);
  }
};

class SyslogBatchWriter {
 public:
  SyslogBatchWriter(SyslogFormat format, size_t max_message_bytes);

  // Replaces out with the messages of batch's events, in order. A batch that cannot be decoded
  // comes from our own CRC-checked buffer, so it is a bug rather than damage: it is logged as an
  // error naming output and seq and comes back empty, because sending the batches after it matters
  // more than it; it then counts as delivered with the ones before it.
  void write(const OutgoingBatch& batch, std::string_view output, FormattedBatch& out);
  uint64_t truncated_messages() const { return truncated_; }

 private:
  SyslogFormat format_;
  size_t max_message_bytes_;
  Decompressor decompressor_;
  std::string raw_;  // the decompressed batch
  uint64_t truncated_ = 0;
};

}  // namespace assas::transport
