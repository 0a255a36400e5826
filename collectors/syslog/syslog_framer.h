#pragma once

// Cuts the byte stream of one TCP or TLS syslog connection into messages (RFC 6587). The framing
// is chosen again at the start of every message, because senders mix them:
// - octet counting: MSG-LEN SP MSG, MSG-LEN being a digit 1-9 and up to 9 more digits; the MSG
//   bytes may hold LFs;
// - otherwise newline framing: the message ends at LF, one CR right before the LF is dropped,
//   and empty lines are skipped. A digit run that is too long or not followed by SP is the start
//   of such a line.
//
// The bytes are hostile: memory stays bounded whatever arrives. A message longer than
// max_message_bytes comes out as its first max_message_bytes, truncated, as soon as they are
// there; the rest is discarded as it streams in, never held:
// - octet counting: original_size is the announced MSG-LEN;
// - newline framing: the head is delivered once the line is known to be too long, so that an
//   endless line cannot hold it back; its end is not known then, so original_size is 0.
// Any split of the stream into feed() calls gives the same messages.
//
// Use: feed() what was read, then next() until it returns false; at the end of the stream,
// finish() until it returns false. Done that way, buffered_bytes() never exceeds
// max_message_bytes + 10 after next() returned false. Feeding again without draining keeps the
// complete messages of every feed (their bytes are copied) until next() returns them. Pure; no I/O;
// one thread.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace assas::collectors {

class SyslogFramer {
 public:
  struct Message {
    std::string_view bytes;
    bool truncated = false;
    uint64_t original_size = 0;  // its full size: bytes.size() unless truncated (see above)
  };

  explicit SyslogFramer(size_t max_message_bytes);  // a value of 0 is taken as 1

  SyslogFramer(const SyslogFramer&) = delete;
  SyslogFramer& operator=(const SyslogFramer&) = delete;
  SyslogFramer(SyslogFramer&&) = default;
  SyslogFramer& operator=(SyslogFramer&&) = default;
  ~SyslogFramer() = default;

  // Copies what it must keep; bytes need not outlive the call.
  void feed(std::string_view bytes);
  // The next complete message; false when none is complete yet. The view is valid until the next
  // feed(), next() or finish() call.
  bool next(Message& out);
  // End of stream: first what next() would return, then the unterminated rest as one last
  // message, if non-empty. That is a newline-framed line as it stands (a CR at its end is kept),
  // or the bytes of an octet-counted frame that were received, marked truncated with the
  // announced MSG-LEN as original_size. Afterwards the framer is at a message start again.
  bool finish(Message& out);

  // Bytes held for messages not yet returned (the last one returned excluded).
  size_t buffered_bytes() const { return buf_.size() - live_start() + digit_count_; }
  // Messages delivered so far, by framing.
  uint64_t octet_counted() const { return octet_counted_; }
  uint64_t newline_framed() const { return newline_framed_; }

 private:
  enum class State {
    kStart,      // at the start of a message
    kLength,     // in a digit run that may be a MSG-LEN
    kLine,       // in a newline-framed message
    kFrame,      // in the MSG of an octet-counted message
    kSkipLine,   // discarding the rest of a too-long line, up to its LF
    kSkipFrame,  // discarding the rest of a too-long frame
  };
  struct Ready {
    size_t offset;  // in buf_
    size_t size;
    bool truncated;
    uint64_t original_size;
  };

  // Runs the state machine over in.
  void run(std::string_view in);
  // Each takes bytes from the front of in, as far as its state goes, and returns how many. One
  // that takes none changes the state to one that takes at least one: run() always progresses.
  size_t take_start(std::string_view in);
  size_t take_length(std::string_view in);
  size_t take_line(std::string_view in);
  size_t take_frame(std::string_view in);
  size_t take_skip_line(std::string_view in);
  size_t take_skip_frame(std::string_view in);

  // The current message (buf_ from current_) becomes ready, cut to size bytes.
  void deliver(size_t size, bool truncated, uint64_t original_size, bool octet_counted);
  size_t current_size() const { return buf_.size() - current_; }
  // Where the bytes not yet returned begin.
  size_t live_start() const { return head_ < ready_.size() ? ready_[head_].offset : current_; }
  void compact();

  size_t max_;
  State state_ = State::kStart;
  std::string buf_;  // returned messages, ready ones, then the current one
  size_t current_ = 0;
  std::vector<Ready> ready_;
  size_t head_ = 0;                   // the next ready_ entry to return
  std::array<char, 10> digits_ = {};  // kLength: the digits so far
  size_t digit_count_ = 0;
  uint64_t remaining_ = 0;   // kFrame, kSkipFrame: MSG bytes still to come
  uint64_t frame_size_ = 0;  // kFrame: the announced MSG-LEN
  uint64_t octet_counted_ = 0;
  uint64_t newline_framed_ = 0;
};

}  // namespace assas::collectors
