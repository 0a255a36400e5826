#include "collectors/file/multiline_joiner.h"

namespace assas::collectors {

bool MultilineJoiner::must_send_before(const Line& line) const {
  if (lines_ == 0) {
    return false;
  }
  return lines_ >= config_.max_lines || text_.size() + 1 + line.text.size() > config_.max_bytes ||
         config_.start->matches(line.text);
}

void MultilineJoiner::add(const Line& line) {
  if (lines_ == 0) {
    offset_ = line.offset;
  } else {
    text_.push_back('\n');
  }
  text_.append(line.text);
  next_offset_ = line.next_offset;
  ++lines_;
}

void MultilineJoiner::add_carried(std::string_view text, uint64_t offset, uint32_t lines) {
  text_.assign(text);
  offset_ = offset;
  next_offset_ = offset;
  lines_ = lines;
}

void MultilineJoiner::clear() {
  text_.clear();
  lines_ = 0;
  if (text_.capacity() > (64U << 10)) {
    text_.shrink_to_fit();  // one huge trace must not pin its memory for the file's lifetime
  }
}

}  // namespace assas::collectors
