// Syslog stream framing (collectors/syslog/syslog_framer.h): RFC 6587 octet counting and newline
// framing, mixed per message, on every TCP and TLS syslog connection. The input is a
// max_message_bytes choice, the split points, then the stream, framed twice: fed whole, and fed in
// pieces cut where the fuzzer chooses, draining next() after every feed and finish() at the end.
// Properties, from the framer's contract: any split gives the same messages; no message is longer
// than the limit, and one that is not truncated is its original size; the bytes held after next()
// returned false stay within max_message_bytes + 10; the two counters add up to the messages.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "collectors/syslog/syslog_framer.h"
#include "tests/fuzz/fuzz_support.h"

namespace co = assas::collectors;

namespace {

using Message = std::tuple<std::string, bool, uint64_t>;  // bytes, truncated, original_size

void take(co::SyslogFramer::Message& m, size_t max, std::vector<Message>& out) {
  ASSAS_FUZZ_CHECK(m.bytes.size() <= max);
  if (m.truncated) {
    ASSAS_FUZZ_CHECK(m.original_size == 0 || m.original_size >= m.bytes.size());
  } else {
    ASSAS_FUZZ_CHECK(m.original_size == m.bytes.size());
  }
  out.emplace_back(std::string(m.bytes), m.truncated, m.original_size);
}

std::vector<Message> frame(std::string_view stream, std::string_view splits, size_t configured) {
  co::SyslogFramer framer(configured);
  size_t max = std::max<size_t>(configured, 1);  // 0 is taken as 1
  std::vector<Message> out;
  co::SyslogFramer::Message m;
  size_t delivered_in_finish = 0;
  assas::fuzz::feed_in_pieces(stream, splits, [&](std::string_view piece, size_t) {
    framer.feed(piece);
    while (framer.next(m)) {
      take(m, max, out);
    }
    ASSAS_FUZZ_CHECK(framer.buffered_bytes() <= max + 10);
    return true;
  });
  while (framer.finish(m)) {
    take(m, max, out);
    ++delivered_in_finish;
  }
  ASSAS_FUZZ_CHECK(delivered_in_finish <= 1);
  ASSAS_FUZZ_CHECK(framer.buffered_bytes() == 0);
  ASSAS_FUZZ_CHECK(framer.octet_counted() + framer.newline_framed() == out.size());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  assas::fuzz::FuzzInput in(data, size);
  // Small limits reach truncation with small inputs; 0 is taken as 1 by the framer itself.
  size_t max = in.byte() < 200 ? in.byte() : 1 + in.u16();
  std::string_view splits = in.sized(64);
  std::string_view stream = in.rest();
  std::vector<Message> whole = frame(stream, {}, max);
  std::vector<Message> pieces = frame(stream, splits, max);
  ASSAS_FUZZ_CHECK(whole == pieces);
  return 0;
}
