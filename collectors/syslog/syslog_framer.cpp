#include "collectors/syslog/syslog_framer.h"

#include <algorithm>

namespace assas::collectors {
namespace {

constexpr size_t kMaxLengthDigits = 10;  // MSG-LEN: a digit 1-9 and up to 9 more

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

SyslogFramer::SyslogFramer(size_t max_message_bytes)
    : max_(std::max<size_t>(max_message_bytes, 1)) {}

void SyslogFramer::feed(std::string_view bytes) {
  compact();
  run(bytes);
}

void SyslogFramer::run(std::string_view in) {
  while (!in.empty()) {
    size_t used = 0;
    switch (state_) {
      case State::kStart:
        used = take_start(in);
        break;
      case State::kLength:
        used = take_length(in);
        break;
      case State::kLine:
        used = take_line(in);
        break;
      case State::kFrame:
        used = take_frame(in);
        break;
      case State::kSkipLine:
        used = take_skip_line(in);
        break;
      case State::kSkipFrame:
        used = take_skip_frame(in);
        break;
    }
    in.remove_prefix(used);
  }
}

size_t SyslogFramer::take_start(std::string_view in) {
  if (in[0] == '\n') {
    return 1;  // an empty line
  }
  if (in[0] >= '1' && in[0] <= '9') {
    digits_[0] = in[0];
    digit_count_ = 1;
    state_ = State::kLength;
    return 1;
  }
  state_ = State::kLine;
  return 0;
}

size_t SyslogFramer::take_length(std::string_view in) {
  for (size_t k = 0; k < in.size(); ++k) {
    if (is_digit(in[k]) && digit_count_ < kMaxLengthDigits) {
      digits_[digit_count_++] = in[k];
      continue;
    }
    size_t count = digit_count_;
    digit_count_ = 0;
    if (in[k] == ' ') {
      uint64_t size = 0;
      for (size_t d = 0; d < count; ++d) {
        size = size * 10 + static_cast<uint64_t>(digits_[d] - '0');  // < 10^10: no overflow
      }
      frame_size_ = size;
      remaining_ = size;
      state_ = State::kFrame;
      return k + 1;
    }
    // Not a MSG-LEN: the digits begin a line. They hold no LF, so this run ends in kLine or
    // kSkipLine and never comes back here.
    state_ = State::kLine;
    run(std::string_view(digits_.data(), count));
    return k;
  }
  return in.size();
}

size_t SyslogFramer::take_line(std::string_view in) {
  size_t lf = in.find('\n');
  size_t content = lf == std::string_view::npos ? in.size() : lf;
  // Up to max_ + 1 bytes are held: one more than a message may have, for a CR that an LF may
  // still follow (then it is dropped, and the line is not too long).
  size_t take = std::min(content, max_ + 1 - current_size());
  buf_.append(in.data(), take);
  bool too_long = take < content || (lf == std::string_view::npos && current_size() == max_ + 1 &&
                                     buf_.back() != '\r');
  if (too_long) {
    deliver(max_, true, 0, false);
    state_ = State::kSkipLine;
    return take;
  }
  if (lf == std::string_view::npos) {
    return take;
  }
  size_t size = current_size();
  if (size > 0 && buf_.back() == '\r') {
    --size;
  }
  if (size == 0) {
    buf_.resize(current_);  // an empty line (or a lone CR): skipped
  } else if (size > max_) {
    deliver(max_, true, 0, false);
  } else {
    deliver(size, false, size, false);
  }
  state_ = State::kStart;
  return lf + 1;
}

size_t SyslogFramer::take_frame(std::string_view in) {
  size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size()));
  size_t keep = std::min(take, max_ - current_size());
  buf_.append(in.data(), keep);
  remaining_ -= take;
  bool too_long = frame_size_ > max_;
  if (remaining_ == 0) {
    deliver(current_size(), too_long, frame_size_, true);
    state_ = State::kStart;
  } else if (too_long && current_size() == max_) {
    deliver(max_, true, frame_size_, true);
    state_ = State::kSkipFrame;
  }
  return take;
}

size_t SyslogFramer::take_skip_line(std::string_view in) {
  size_t lf = in.find('\n');
  if (lf == std::string_view::npos) {
    return in.size();
  }
  state_ = State::kStart;
  return lf + 1;
}

size_t SyslogFramer::take_skip_frame(std::string_view in) {
  size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size()));
  remaining_ -= take;
  if (remaining_ == 0) {
    state_ = State::kStart;
  }
  return take;
}

void SyslogFramer::deliver(size_t size, bool truncated, uint64_t original_size,
                           bool octet_counted) {
  ready_.push_back(Ready{current_, size, truncated, original_size});
  buf_.resize(current_ + size);  // drops a CR before the LF, or the byte past max_
  current_ = buf_.size();
  ++(octet_counted ? octet_counted_ : newline_framed_);
}

bool SyslogFramer::next(Message& out) {
  if (head_ >= ready_.size()) {
    return false;
  }
  const Ready& ready = ready_[head_++];
  out.bytes = std::string_view(buf_.data() + ready.offset, ready.size);
  out.truncated = ready.truncated;
  out.original_size = ready.original_size;
  if (head_ == ready_.size()) {
    ready_.clear();
    head_ = 0;
  }
  return true;
}

bool SyslogFramer::finish(Message& out) {
  if (next(out)) {
    return true;
  }
  if (state_ == State::kLength) {
    size_t count = digit_count_;
    digit_count_ = 0;
    state_ = State::kLine;
    run(std::string_view(digits_.data(), count));
  }
  size_t size = current_size();
  if (state_ == State::kLine && size > 0) {
    if (size > max_) {
      deliver(max_, true, 0, false);
    } else {
      deliver(size, false, size, false);
    }
  } else if (state_ == State::kFrame && size > 0) {
    deliver(size, true, frame_size_, true);
  }
  state_ = State::kStart;
  remaining_ = 0;
  return next(out);
}

// Drops the bytes already returned from the front of buf_, but only when they are at least as
// many as the bytes kept, so each byte is moved O(1) times on average.
void SyslogFramer::compact() {
  size_t cut = live_start();
  if (cut == 0 || cut < buf_.size() - cut) {
    return;
  }
  buf_.erase(0, cut);
  current_ -= cut;
  ready_.erase(ready_.begin(), ready_.begin() + static_cast<std::ptrdiff_t>(head_));
  head_ = 0;
  for (Ready& ready : ready_) {
    ready.offset -= cut;
  }
}

}  // namespace assas::collectors
