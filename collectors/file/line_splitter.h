#pragma once

// Cuts the bytes of a file into lines, byte-exactly: a line is what stands before '\n' (a '\r'
// before it is kept: CRLF files arrive as written), with its start offset and the offset after
// its newline (the checkpoint once it is durable). A partial last line is held until its newline
// arrives. A line longer than max_line_bytes comes out in pieces of max_line_bytes, so memory stays
// bounded whatever a file holds. With strip_cr, a '\r' right before the newline is left out of
// the line's text (offsets still count it); pieces of an over-long line are never stripped.
//
// peek() / consume() let the caller stop at a line the pipeline refused and offer the very same
// line again later. Pure; no I/O.

#include <cstdint>
#include <string>
#include <string_view>

namespace assas::collectors {

struct Line {
  std::string_view text;
  uint64_t offset = 0;       // of the first byte
  uint64_t next_offset = 0;  // after the newline (or after the piece, for a split line)
  bool piece = false;        // part of a line longer than max_line_bytes
};

class LineSplitter {
 public:
  explicit LineSplitter(size_t max_line_bytes, bool strip_cr = false)
      : max_line_bytes_(max_line_bytes), strip_cr_(strip_cr) {}

  // Starts over at a file offset (a new file, or one truncated): forgets any partial line.
  void reset(uint64_t offset);
  // The next bytes of the file, read at offset(); must stay valid until peek() returns false.
  void feed(std::string_view chunk);
  // The next complete line, or false when the chunk is used up (a partial line is kept).
  bool peek(Line& line);
  void consume();
  // Offset of the next byte to feed.
  uint64_t offset() const { return chunk_offset_ + chunk_.size(); }
  size_t held_bytes() const { return carry_.size(); }

 private:
  size_t max_line_bytes_;
  bool strip_cr_;
  std::string_view chunk_;
  size_t pos_ = 0;
  uint64_t chunk_offset_ = 0;
  std::string carry_;  // a line begun in an earlier chunk
  uint64_t carry_offset_ = 0;
  Line pending_;
  bool has_pending_ = false;
  bool pending_from_carry_ = false;
};

}  // namespace assas::collectors
