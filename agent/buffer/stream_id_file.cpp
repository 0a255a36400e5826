#include "agent/buffer/stream_id_file.h"

#include <cerrno>
#include <cstdio>
#include <string_view>

#include <sys/random.h>

#include "base/bytes.h"
#include "base/file_util.h"
#include "base/log.h"

namespace assas::agent {

Result<uint64_t> load_or_create_stream_id(const std::string& dir, bool had_segments) {
  std::string path = dir + "/stream_id";
  Result<std::string> text = read_file(path, 64);
  if (text.is_ok()) {
    std::string_view v = text.value();
    if (!v.empty() && v.back() == '\n') {
      v.remove_suffix(1);
    }
    uint64_t id = 0;
    bool valid = v.size() == 16;
    for (char c : v) {
      int digit = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
      valid = valid && digit >= 0;
      id = (id << 4) | static_cast<uint64_t>(digit & 0xf);
    }
    if (!valid || id == 0) {
      return corruption("'" + path + "' does not hold a 16-digit hex stream id; remove it to " +
                        "start a new stream (the receiver may then store buffered batches again)");
    }
    return id;
  }
  if (text.status().code() != StatusCode::kNotFound) {
    return text.status();
  }
  if (had_segments) {
    ASSAS_LOG(kWarn, "the disk buffer has segments but no stream id; starting a new stream",
              log::kv("file", path));
  }
  uint64_t id = 0;
  while (id == 0) {
    if (::getrandom(&id, sizeof id, 0) != static_cast<ssize_t>(sizeof id)) {
      if (errno == EINTR) {
        continue;
      }
      return posix_status("getrandom for the stream id", errno);
    }
  }
  char line[32];
  std::snprintf(line, sizeof line, "%016llx\n", static_cast<unsigned long long>(id));
  ASSAS_RETURN_IF_ERROR(atomic_write_file(path, line));
  return id;
}

Result<uint64_t> load_seq_floor(const std::string& dir) {
  std::string path = dir + "/last_seq";
  Result<std::string> text = read_file(path, 64);
  if (!text.is_ok()) {
    return text.status().code() == StatusCode::kNotFound ? Result<uint64_t>(uint64_t{0})
                                                         : Result<uint64_t>(text.status());
  }
  std::string_view v = text.value();
  if (!v.empty() && v.back() == '\n') {
    v.remove_suffix(1);
  }
  uint64_t seq = 0;
  if (!parse_decimal_u64(v, seq)) {
    return corruption("'" + path + "' does not hold a decimal seq; remove it and the stream_id " +
                      "file to start a new stream (the receiver may then store buffered batches " +
                      "again)");
  }
  return seq;
}

Status store_seq_floor(const std::string& dir, uint64_t seq) {
  return atomic_write_file(dir + "/last_seq", std::to_string(seq) + "\n");
}

uint64_t load_released_upto(const std::string& dir, uint64_t stream_id) {
  std::string path = dir + "/released_upto";
  Result<std::string> text = read_file(path, 64);
  if (!text.is_ok()) {
    if (text.status().code() != StatusCode::kNotFound) {
      ASSAS_LOG(kWarn,
                "cannot read the disk buffer's released_upto; batches delivered before the "
                "last stop may be sent again",
                log::kv("error", text.status().to_string()));
    }
    return 0;
  }
  std::string_view v = text.value();
  if (!v.empty() && v.back() == '\n') {
    v.remove_suffix(1);
  }
  char expected[20];
  std::snprintf(expected, sizeof expected, "%016llx ", static_cast<unsigned long long>(stream_id));
  uint64_t seq = 0;
  if (v.size() < 17 || v.substr(0, 17) != expected) {
    ASSAS_LOG(kWarn, "the disk buffer's released_upto is of another stream or damaged; ignoring it",
              log::kv("file", path));
    return 0;
  }
  if (!parse_decimal_u64(v.substr(17), seq)) {
    ASSAS_LOG(kWarn, "the disk buffer's released_upto is damaged; ignoring it",
              log::kv("file", path));
    return 0;
  }
  return seq;
}

Status store_released_upto(const std::string& dir, uint64_t stream_id, uint64_t seq) {
  char line[48];
  std::snprintf(line, sizeof line, "%016llx %llu\n", static_cast<unsigned long long>(stream_id),
                static_cast<unsigned long long>(seq));
  return atomic_write_file(dir + "/released_upto", line);
}

}  // namespace assas::agent
