#include "transport/syslog/syslog_batch_writer.h"

#include "base/log.h"

namespace assas::transport {
namespace {

// The most a batch may decompress to: the pipeline's own limit on a batch (64 MiB) with room.
constexpr uint32_t kMaxRawBatchBytes = 128U << 20;

// The length of the longest prefix of text that is at most limit bytes and does not end inside a
// UTF-8 character (bytes that are not UTF-8 at all are cut anywhere).
size_t utf8_cut(std::string_view text, size_t limit) {
  size_t cut = limit;
  // Step back over at most three continuation bytes to the start of the character cut in two.
  for (int i = 0; i < 3 && cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80; ++i) {
    --cut;
  }
  return (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80 ? limit : cut;
}

}  // namespace

SyslogBatchWriter::SyslogBatchWriter(SyslogFormat format, size_t max_message_bytes)
    : format_(std::move(format)), max_message_bytes_(max_message_bytes) {}

void SyslogBatchWriter::write(const OutgoingBatch& batch, std::string_view output,
                              FormattedBatch& out) {
  out.messages.clear();
  out.ends.clear();
  Status s = decompressor_.decompress(batch.codec, *batch.payload, batch.raw_size,
                                      kMaxRawBatchBytes, raw_);
  if (s.is_ok()) {
    s = decode_batch(raw_, batch.event_count,
                     [&](const DecodedBatchHeader& header, const DecodedEvent& event) {
                       size_t begin = out.messages.size();
                       write_syslog_message(header, event, format_, out.messages);
                       std::string_view message = std::string_view(out.messages).substr(begin);
                       if (message.size() > max_message_bytes_) {
                         out.messages.resize(begin + utf8_cut(message, max_message_bytes_));
                         ++truncated_;
                       }
                       out.ends.push_back(out.messages.size());
                     });
  }
  if (!s.is_ok()) {
    ASSAS_LOG(kError, "cannot decode a buffered batch; skipping it", log::kv("output", output),
              log::kv("seq", batch.seq), log::kv("error", s.to_string()));
    out.messages.clear();
    out.ends.clear();
  }
}

}  // namespace assas::transport
