#include "ingest/verify/line_reader.h"

#include <cerrno>
#include <cstring>

#include <sys/stat.h>

#include <fcntl.h>
#include <unistd.h>

namespace assas::ingest {
namespace {

constexpr size_t kReadBytes = 1 << 20;

}  // namespace

Result<std::unique_ptr<LineReader>> LineReader::open(const std::string& path,
                                                     size_t max_line_bytes) {
  // O_NONBLOCK: a FIFO planted under a stored name must not hang verify; it is refused below.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    return posix_status("open '" + path + "'", errno);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return invalid_argument("'" + path + "' is not a regular file");
  }
  return std::unique_ptr<LineReader>(new LineReader(fd, path, max_line_bytes));
}

LineReader::LineReader(int fd, std::string path, size_t max_line_bytes)
    : fd_(fd), path_(std::move(path)), max_line_bytes_(max_line_bytes), buffer_(kReadBytes, '\0') {}

LineReader::~LineReader() {
  ::close(fd_);
}

Status LineReader::fill() {
  begin_ = 0;
  end_ = 0;
  while (true) {
    ssize_t n = ::read(fd_, buffer_.data(), buffer_.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return posix_status("read '" + path_ + "'", errno);
    }
    end_ = static_cast<size_t>(n);
    eof_ = n == 0;
    return Status::ok();
  }
}

Result<LineReader::Kind> LineReader::next(std::string_view& line) {
  line_.clear();
  bool too_long = false;
  while (true) {
    if (begin_ == end_) {
      if (!eof_) {
        ASSAS_RETURN_IF_ERROR(fill());
      }
      if (eof_) {
        if (line_.empty() && !too_long) {
          line = {};
          return Kind::kEnd;
        }
        ++line_number_;
        line = line_;
        return too_long ? Kind::kTooLong : Kind::kUnterminated;
      }
    }
    const char* start = buffer_.data() + begin_;
    const auto* newline = static_cast<const char*>(std::memchr(start, '\n', end_ - begin_));
    size_t take = newline != nullptr ? static_cast<size_t>(newline - start) : end_ - begin_;
    if (!too_long && line_.size() + take > max_line_bytes_) {
      too_long = true;
      line_.clear();
      line_.shrink_to_fit();
    }
    if (newline != nullptr && line_.empty() && !too_long) {
      // The common case: the whole line is in the buffer, no copy.
      begin_ += take + 1;
      ++line_number_;
      line = std::string_view(start, take);
      return Kind::kLine;
    }
    if (!too_long) {
      line_.append(start, take);
    }
    begin_ += take;
    if (newline != nullptr) {
      ++begin_;
      ++line_number_;
      line = too_long ? std::string_view() : std::string_view(line_);
      return too_long ? Kind::kTooLong : Kind::kLine;
    }
  }
}

}  // namespace assas::ingest
