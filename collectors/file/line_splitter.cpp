#include "collectors/file/line_splitter.h"

namespace assas::collectors {

void LineSplitter::reset(uint64_t offset) {
  chunk_ = {};
  pos_ = 0;
  chunk_offset_ = offset;
  carry_.clear();
  has_pending_ = false;
}

void LineSplitter::feed(std::string_view chunk) {
  chunk_offset_ += chunk_.size();
  chunk_ = chunk;
  pos_ = 0;
}

bool LineSplitter::peek(Line& line) {
  if (has_pending_) {
    line = pending_;
    return true;
  }
  std::string_view rest = chunk_.substr(pos_);
  size_t newline = rest.find('\n');
  uint64_t at = chunk_offset_ + pos_;
  if (carry_.empty()) {
    size_t length = newline == std::string_view::npos ? rest.size() : newline;
    if (length > max_line_bytes_) {
      pending_ = Line{rest.substr(0, max_line_bytes_), at, at + max_line_bytes_, true};
      pos_ += max_line_bytes_;
    } else if (newline != std::string_view::npos) {
      pending_ = Line{rest.substr(0, newline), at, at + newline + 1, false};
      pos_ += newline + 1;
    } else {
      if (!rest.empty()) {
        carry_.assign(rest);
        carry_offset_ = at;
      }
      pos_ = chunk_.size();
      return false;
    }
    pending_from_carry_ = false;
  } else {
    size_t take = newline == std::string_view::npos ? rest.size() : newline;
    size_t room = max_line_bytes_ - carry_.size();
    if (take > room) {
      carry_.append(rest.substr(0, room));
      pos_ += room;
      pending_ = Line{carry_, carry_offset_, carry_offset_ + carry_.size(), true};
    } else if (newline != std::string_view::npos) {
      carry_.append(rest.substr(0, newline));
      pos_ += newline + 1;
      pending_ = Line{carry_, carry_offset_, carry_offset_ + carry_.size() + 1, false};
    } else {
      carry_.append(rest);
      pos_ = chunk_.size();
      return false;
    }
    pending_from_carry_ = true;
  }
  has_pending_ = true;
  if (strip_cr_ && !pending_.piece && !pending_.text.empty() && pending_.text.back() == '\r') {
    pending_.text.remove_suffix(1);
  }
  line = pending_;
  return true;
}

void LineSplitter::consume() {
  if (!has_pending_) {
    return;
  }
  has_pending_ = false;
  if (pending_from_carry_) {
    carry_.clear();
  }
}

}  // namespace assas::collectors
