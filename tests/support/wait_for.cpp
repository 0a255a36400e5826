#include "tests/support/wait_for.h"

#include <cstdlib>
#include <thread>

#include "tests/support/temp_dir.h"

namespace assas::test {

bool wait_for(const std::function<bool()>& predicate, std::chrono::milliseconds deadline,
              std::chrono::milliseconds poll) {
  auto end = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    if (predicate()) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= end) {
      return false;
    }
    std::this_thread::sleep_for(poll);
  }
}

int wait_for_number_in_file(const std::string& path, const std::string& prefix,
                            std::chrono::milliseconds deadline) {
  int number = -1;
  wait_for(
      [&] {
        std::string text = read_text_file(path);
        size_t at = text.find(prefix);
        if (at == std::string::npos) {
          return false;
        }
        number = std::atoi(text.c_str() + at + prefix.size());
        return true;
      },
      deadline);
  return number;
}

}  // namespace assas::test
