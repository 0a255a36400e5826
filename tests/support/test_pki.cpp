#include "tests/support/test_pki.h"

#include <cstdlib>
#include <stdexcept>

namespace assas::test {

TestPki make_test_pki(const std::string& dir, const std::string& agent_id) {
  std::string command =
      std::string(ASSAS_SOURCE_DIR) + "/scripts/make-demo-pki.sh '" + dir + "' '" + agent_id + "'";
  if (std::system(command.c_str()) != 0) {  // NOLINT(concurrency-mt-unsafe): one test thread
    throw std::runtime_error("making test certificates failed: " + command);
  }
  return TestPki{dir};
}

}  // namespace assas::test
