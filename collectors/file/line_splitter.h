#pragma once

// Cuts the bytes of a file into lines, byte-exactly: a line is what stands before '\n' (a '\r'
// before it is kept: CRLF files arrive as written), with its start offset and the offset after
// its newline (the checkpoint once it is durable). A partial last line is held until its newline
// arrives, or until the caller flushes it (take_partial, after a timeout); then the rest of that
// line, when it comes, is a line of its own, and a lone newline that ends it is no line at all.
//
// A line longer than max_line_bytes never makes memory grow beyond max_line_bytes:
// - split: it comes out in pieces of max_line_bytes, numbered from 1 (part), the last one marked;
// - truncate: its first max_line_bytes come out once its newline is found, with its full length
//   (truncated_from); the rest is skipped without being held.
// With strip_cr, a '\r' right before the newline is left out of the line's text (offsets still
// count it); pieces and truncated lines are never stripped.
//
// peek() / consume() let the caller stop at a line the pipeline refused and offer the very same
// line again later. Pure; no I/O.

#include <cstdint>
#include <string>
#include <string_view>

namespace assas::collectors {

struct Line {
  std::string_view text;
  uint64_t offset = 0;          // of the first byte
  uint64_t next_offset = 0;     // after the newline (or after the piece, for a split line)
  uint32_t part = 0;            // 0: a whole line; k >= 1: the k-th piece of a split line
  bool last_part = false;       // the piece that ends a split line
  uint64_t truncated_from = 0;  // 0, or the full length of a truncated line
  bool partial = false;         // flushed without its newline
  bool piece() const { return part > 0 && !last_part; }
};

class LineSplitter {
 public:
  explicit LineSplitter(size_t max_line_bytes, bool strip_cr = false, bool truncate_long = false)
      : max_line_bytes_(max_line_bytes), strip_cr_(strip_cr), truncate_long_(truncate_long) {}

  // Starts over at a file offset (a new file, or one truncated): forgets any partial line.
  void reset(uint64_t offset);
  // The next bytes of the file, read at offset(); must stay valid until peek() returns false.
  void feed(std::string_view chunk);
  // The next complete line, or false when the chunk is used up (a partial line is kept).
  bool peek(Line& line);
  // After peek() returned false: the held partial line as a line of its own (partial = true), to
  // be consumed like any other. False when nothing is held (or a truncated line is being skipped:
  // it is sent when its newline comes).
  bool take_partial(Line& line);
  void consume();
  // Offset of the next byte to feed.
  uint64_t offset() const { return chunk_offset_ + chunk_.size(); }
  size_t held_bytes() const { return carry_.size(); }

 private:
  bool emit(Line line, bool from_carry);

  size_t max_line_bytes_;
  bool strip_cr_;
  bool truncate_long_;
  std::string_view chunk_;
  size_t pos_ = 0;
  uint64_t chunk_offset_ = 0;
  std::string carry_;  // the start of a line begun in an earlier chunk (at most max_line_bytes)
  uint64_t carry_offset_ = 0;
  uint32_t parts_ = 0;         // pieces of the current line already cut (split)
  bool skipping_ = false;      // past max_line_bytes of a line being truncated
  uint64_t line_length_ = 0;   // bytes of the line being truncated, skipped ones included
  bool skip_newline_ = false;  // a partial line was sent: the newline that ends it is no line
  Line pending_;
  bool has_pending_ = false;
  bool pending_from_carry_ = false;
};

}  // namespace assas::collectors
