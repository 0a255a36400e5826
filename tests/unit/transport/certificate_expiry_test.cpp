#include "transport/tls/certificate_expiry.h"

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace assas::transport {
namespace {

constexpr int64_t kDay = int64_t{24} * 3600;

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("the expiry of a certificate made now is within its validity", "[tls][metrics]") {
  test::TempDir dir;
  test::TestPki pki = test::make_test_pki(dir.file("pki"), "agent-1");
  int64_t before = std::time(nullptr);
  Result<int64_t> not_after = soonest_not_after(pki.client_cert());
  REQUIRE(not_after.is_ok());
  // make-demo-pki.sh signs for two days.
  CHECK(*not_after > before + 2 * kDay - 600);
  CHECK(*not_after <= std::time(nullptr) + 2 * kDay + 60);
}

TEST_CASE("a bundle reports its soonest expiry", "[tls][metrics]") {
  test::TempDir dir;
  test::TestPki pki = test::make_test_pki(dir.file("pki"), "agent-1");
  std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
      "-days 30 -subj /CN=long -keyout " +
      dir.file("long.key") + " -out " + dir.file("long.pem") + " >/dev/null 2>&1";
  REQUIRE(std::system(command.c_str()) == 0);  // NOLINT(concurrency-mt-unsafe): one thread
  Result<int64_t> long_lived = soonest_not_after(dir.file("long.pem"));
  REQUIRE(long_lived.is_ok());
  CHECK(*long_lived > std::time(nullptr) + 29 * kDay);
  test::write_text_file(dir.file("bundle.pem"),
                        read_all(dir.file("long.pem")) + read_all(pki.client_cert()));
  Result<int64_t> bundle = soonest_not_after(dir.file("bundle.pem"));
  REQUIRE(bundle.is_ok());
  CHECK(*bundle == *soonest_not_after(pki.client_cert()));
}

TEST_CASE("a missing file or one without a certificate is an error", "[tls][metrics]") {
  test::TempDir dir;
  CHECK_FALSE(soonest_not_after(dir.file("missing.pem")).is_ok());
  test::write_text_file(dir.file("empty.pem"), "not a certificate\n");
  Result<int64_t> none = soonest_not_after(dir.file("empty.pem"));
  REQUIRE_FALSE(none.is_ok());
  CHECK(none.status().message().find("no PEM certificate") != std::string::npos);
}

}  // namespace assas::transport
