#pragma once

// Reads a file line by line with a bounded line length, so that `assas-ingest verify` streams a
// 256 MiB events file instead of loading it, and a hostile file (one line of gigabytes, no newline
// at all) costs at most max_line_bytes of memory: a longer line is skipped and reported as such.
//
// Blocking; one thread.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace assas::ingest {

class LineReader {
 public:
  enum class Kind {
    kLine,          // a complete line (without its newline)
    kTooLong,       // a complete line longer than max_line_bytes: skipped, line is empty
    kUnterminated,  // the last bytes of the file, without a newline: line holds them
    kEnd,           // no more lines
  };

  static Result<std::unique_ptr<LineReader>> open(const std::string& path, size_t max_line_bytes);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line; line is valid until the next call. Fails only on a read error.
  Result<Kind> next(std::string_view& line);
  // The 1-based number of the line next() returned last.
  uint64_t line_number() const { return line_number_; }

 private:
  LineReader(int fd, std::string path, size_t max_line_bytes);
  Status fill();

  int fd_;
  std::string path_;
  size_t max_line_bytes_;
  std::string buffer_;
  size_t begin_ = 0;  // unread bytes are buffer_[begin_, end_)
  size_t end_ = 0;
  bool eof_ = false;
  std::string line_;  // a line that spans reads
  uint64_t line_number_ = 0;
};

}  // namespace assas::ingest
