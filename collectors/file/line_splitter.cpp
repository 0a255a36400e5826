#include "collectors/file/line_splitter.h"

namespace assas::collectors {

void LineSplitter::reset(uint64_t offset) {
  chunk_ = {};
  pos_ = 0;
  chunk_offset_ = offset;
  carry_.clear();
  parts_ = 0;
  skipping_ = false;
  line_length_ = 0;
  skip_newline_ = false;
  has_pending_ = false;
}

void LineSplitter::feed(std::string_view chunk) {
  chunk_offset_ += chunk_.size();
  chunk_ = chunk;
  pos_ = 0;
}

bool LineSplitter::emit(Line line, bool from_carry) {
  if (strip_cr_ && !line.piece() && line.truncated_from == 0 && !line.partial &&
      !line.text.empty() && line.text.back() == '\r') {
    line.text.remove_suffix(1);
  }
  pending_ = line;
  pending_from_carry_ = from_carry;
  has_pending_ = true;
  return true;
}

bool LineSplitter::peek(Line& line) {
  if (!has_pending_) {
    for (;;) {
      if (skip_newline_ && pos_ < chunk_.size()) {
        // The newline that ends a partial line already sent: not an empty line of its own.
        skip_newline_ = false;
        if (chunk_[pos_] == '\n') {
          ++pos_;
          continue;
        }
      }
      std::string_view rest = chunk_.substr(pos_);
      size_t newline = rest.find('\n');
      size_t take = newline == std::string_view::npos ? rest.size() : newline;
      uint64_t at = chunk_offset_ + pos_;
      if (skipping_) {
        line_length_ += take;
        if (newline == std::string_view::npos) {
          pos_ = chunk_.size();
          return false;
        }
        pos_ += newline + 1;
        skipping_ = false;
        Line cut{carry_, carry_offset_, at + newline + 1};
        cut.truncated_from = line_length_;
        emit(cut, true);
        break;
      }
      size_t have = carry_.size();
      uint64_t start = have > 0 ? carry_offset_ : at;
      if (have + take > max_line_bytes_) {
        size_t room = max_line_bytes_ - have;
        std::string_view head = rest.substr(0, room);
        pos_ += room;
        if (truncate_long_) {
          if (have == 0) {
            carry_offset_ = at;
          }
          carry_.append(head);
          line_length_ = max_line_bytes_;
          skipping_ = true;
          continue;
        }
        Line cut{have > 0 ? std::string_view() : head, start, start + max_line_bytes_};
        cut.part = ++parts_;
        if (have > 0) {
          carry_.append(head);
          cut.text = carry_;
        }
        emit(cut, have > 0);
        break;
      }
      if (newline != std::string_view::npos) {
        Line cut{rest.substr(0, newline), start, at + newline + 1};
        if (have > 0) {
          carry_.append(cut.text);
          cut.text = carry_;
        }
        if (parts_ > 0) {
          cut.part = parts_ + 1;
          cut.last_part = true;
          parts_ = 0;
        }
        pos_ += newline + 1;
        emit(cut, have > 0);
        break;
      }
      if (!rest.empty()) {
        if (have == 0) {
          carry_offset_ = at;
        }
        carry_.append(rest);
      }
      pos_ = chunk_.size();
      return false;
    }
  }
  line = pending_;
  return true;
}

bool LineSplitter::take_partial(Line& line) {
  if (!has_pending_) {
    if (skipping_ || carry_.empty() || pos_ < chunk_.size()) {
      return false;
    }
    Line cut{carry_, carry_offset_, carry_offset_ + carry_.size()};
    cut.partial = true;
    if (parts_ > 0) {
      cut.part = ++parts_;
    }
    emit(cut, true);
  }
  line = pending_;
  return true;
}

void LineSplitter::consume() {
  if (!has_pending_) {
    return;
  }
  has_pending_ = false;
  skip_newline_ = pending_.partial;
  if (pending_from_carry_) {
    carry_.clear();
  }
}

}  // namespace assas::collectors
