#include "tests/support/proc_status.h"

#include <fstream>
#include <string>

namespace assas::test {

uint64_t proc_status_kib(pid_t pid, std::string_view key) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  std::string prefix = std::string(key) + ":";
  while (std::getline(status, line)) {
    if (line.rfind(prefix, 0) == 0) {
      return std::stoull(line.substr(prefix.size()));
    }
  }
  return 0;
}

}  // namespace assas::test
