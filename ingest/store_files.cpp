#include "ingest/store_files.h"

#include <algorithm>
#include <cerrno>

#include <sys/stat.h>

#include <fcntl.h>
#include <unistd.h>

#include "base/log.h"

namespace assas::ingest {
namespace {

constexpr size_t kChunk = 64 << 10;

Status read_at(int fd, char* buffer, size_t size, uint64_t offset, const std::string& path) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, buffer + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return posix_status("read '" + path + "'", errno);
    }
    if (n == 0) {
      return corruption("'" + path + "' ended while it was read");
    }
    done += static_cast<size_t>(n);
  }
  return Status::ok();
}

}  // namespace

Result<uint64_t> file_size_of(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return posix_status("stat '" + path + "'", errno);
  }
  return static_cast<uint64_t>(st.st_size);
}

Result<int> open_private_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return posix_status("open '" + path + "'", errno);
  }
  return fd;
}

Result<int> open_committed_file(const std::string& path, uint64_t committed, const char* what) {
  Result<int> opened = open_private_file(path);
  if (!opened.is_ok()) {
    return opened.status();
  }
  int fd = *opened;
  Result<uint64_t> size = file_size_of(fd, path);
  Status s = size.status();
  if (s.is_ok() && *size > committed) {
    ASSAS_LOG(kWarn, "cutting off what was written but never acknowledged; the agent resends it",
              log::kv("file", path), log::kv("bytes", *size - committed));
    if (::ftruncate(fd, static_cast<off_t>(committed)) != 0) {
      s = posix_status("truncate '" + path + "'", errno);
    }
  } else if (s.is_ok() && *size < committed) {
    s = corruption("'" + path + "' is shorter than its committed size; " + what +
                   " acknowledged earlier are missing from it");
  }
  if (!s.is_ok()) {
    ::close(fd);
    return s;
  }
  return fd;
}

Result<uint64_t> count_lines(int fd, uint64_t size, const std::string& path) {
  std::string buffer(kChunk, '\0');
  uint64_t lines = 0;
  for (uint64_t at = 0; at < size; at += kChunk) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, size - at));
    ASSAS_RETURN_IF_ERROR(read_at(fd, buffer.data(), n, at, path));
    lines += static_cast<uint64_t>(std::count(buffer.begin(), buffer.begin() + n, '\n'));
  }
  return lines;
}

Result<uint64_t> last_line_end(int fd, uint64_t size, const std::string& path) {
  std::string buffer(kChunk, '\0');
  for (uint64_t end = size; end > 0;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, end));
    uint64_t at = end - n;
    ASSAS_RETURN_IF_ERROR(read_at(fd, buffer.data(), n, at, path));
    size_t newline = std::string_view(buffer.data(), n).rfind('\n');
    if (newline != std::string_view::npos) {
      return at + newline + 1;
    }
    end = at;
  }
  return uint64_t{0};
}

}  // namespace assas::ingest
