#include "agent/buffer/segment_reader.h"

#include <cerrno>

#include <fcntl.h>
#include <unistd.h>

#include "agent/buffer/segment_format.h"

namespace assas::agent {

namespace fmt = segment_format;

// Reads one record back (Worker thread); the index says where, the CRC says whether it is intact.
Result<BufferRecord> read_segment_record(const std::string& path, uint64_t offset, uint32_t length,
                                         uint64_t seq, uint32_t version) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return posix_status("open segment '" + path + "'", errno);
  }
  std::string bytes(length, '\0');
  size_t got = 0;
  while (got < length) {
    ssize_t n = ::pread(fd, bytes.data() + got, length - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      Status s = n < 0 ? posix_status("read segment '" + path + "'", errno)
                       : corruption("segment '" + path + "' ends before the record of seq " +
                                    std::to_string(seq));
      ::close(fd);
      return s;
    }
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  fmt::FrameResult frame = fmt::check_frame(bytes, version);
  if (frame.check != fmt::FrameCheck::kOk) {
    return corruption("segment '" + path + "' offset " + std::to_string(offset) + ": " + frame.why +
                      " (changed on disk since it was written)");
  }
  Result<BufferRecord> record = fmt::decode_record_body(frame.body, version);
  if (record.is_ok() && record->seq != seq) {
    return corruption("segment '" + path + "' offset " + std::to_string(offset) +
                      ": expected seq " + std::to_string(seq) + ", found " +
                      std::to_string(record->seq));
  }
  return record;
}

}  // namespace assas::agent
