#include "collectors/syslog/udp_socket_drops.h"

#include <cstdio>
#include <cstring>

#include <sys/stat.h>

namespace assas::collectors {

namespace {

// One table's line for inode: " sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref
// pointer drops".
std::optional<uint64_t> drops_in(const char* table, unsigned long long inode) {
  FILE* f = std::fopen(table, "re");
  if (f == nullptr) {
    return std::nullopt;
  }
  std::optional<uint64_t> found;
  char line[512];
  bool header = true;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (header) {
      header = false;
      continue;
    }
    unsigned long long line_inode = 0;
    unsigned long long drops = 0;
    // Skip to the 10th field (inode) and read it and the 13th (drops).
    int n = std::sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %*s %*s %llu", &line_inode,
                        &drops);
    if (n == 2 && line_inode == inode) {
      found = drops;
      break;
    }
  }
  std::fclose(f);
  return found;
}

}  // namespace

std::optional<uint64_t> udp_socket_drops(int fd) {
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    return std::nullopt;
  }
  auto inode = static_cast<unsigned long long>(st.st_ino);
  if (std::optional<uint64_t> drops = drops_in("/proc/net/udp", inode)) {
    return drops;
  }
  return drops_in("/proc/net/udp6", inode);
}

}  // namespace assas::collectors
