// assas-ingest's config: defaults, and error messages that name the file, line, column and key.

#include "ingest/ingest_config.h"

#include <string>

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

namespace assas::ingest {
namespace {

struct Loaded {
  std::string path;
  Result<IngestConfig> config;
};

Loaded load(const assas::test::TempDir& dir, const std::string& yaml) {
  std::string path = dir.file("ingest.yaml");
  assas::test::write_text_file(path, yaml);
  return Loaded{path, load_ingest_config(path)};
}

const std::string kTls = "tls: { ca: /etc/assas/ca.pem, cert: /etc/assas/i.pem, key: /k }\n";

}  // namespace

TEST_CASE("a minimal ingest config takes the documented defaults", "[config]") {
  assas::test::TempDir dir;
  Loaded l = load(dir, kTls);
  REQUIRE(l.config.is_ok());
  const IngestConfig& c = *l.config;
  REQUIRE(c.server.listen == std::vector<std::string>{"127.0.0.1:6514"});
  REQUIRE(c.service.data_dir == "/var/lib/assas-ingest");
  REQUIRE(c.service.window_batches == 16);
  REQUIRE(c.service.window_bytes == 32ULL << 20);
  REQUIRE(c.service.limits.max_file_size == 256ULL << 20);
  REQUIRE(c.server.tls.ca == "/etc/assas/ca.pem");
}

TEST_CASE("ingest config values in human units are read", "[config]") {
  assas::test::TempDir dir;
  Loaded l = load(dir,
                  "ingest:\n"
                  "  listen: [\"0.0.0.0:6514\", \"[::1]:6515\"]\n"
                  "  max_file_size: 1GiB\n"
                  "  window: { batches: 32, bytes: 64MiB }\n"
                  "  idle_timeout: 90s\n" +
                      kTls);
  REQUIRE(l.config.is_ok());
  REQUIRE(l.config->server.listen.size() == 2);
  REQUIRE(l.config->service.limits.max_file_size == 1ULL << 30);
  REQUIRE(l.config->service.window_batches == 32);
  REQUIRE(l.config->service.window_bytes == 64ULL << 20);
  REQUIRE(l.config->server.idle_timeout == std::chrono::seconds(90));
}

TEST_CASE("an unknown ingest key is an error at its position", "[config]") {
  assas::test::TempDir dir;
  Loaded l = load(dir, "ingest:\n  listne: [\"0.0.0.0:6514\"]\n" + kTls);
  REQUIRE_FALSE(l.config.is_ok());
  REQUIRE_THAT(l.config.status().message(),
               Catch::StartsWith(l.path + ":2:3: ingest.listne: unknown key"));
}

TEST_CASE("a bad size names the key and the valid form", "[config]") {
  assas::test::TempDir dir;
  Loaded l = load(dir, "ingest:\n  max_file_size: lots\n" + kTls);
  REQUIRE_FALSE(l.config.is_ok());
  REQUIRE_THAT(l.config.status().message(),
               Catch::StartsWith(l.path + ":2:18: ingest.max_file_size: "));
}

TEST_CASE("the tls section is required and says what it needs", "[config]") {
  assas::test::TempDir dir;
  Loaded l = load(dir, "ingest: { data_dir: /srv/ingest }\n");
  REQUIRE_FALSE(l.config.is_ok());
  REQUIRE_THAT(l.config.status().message(),
               Catch::Contains("missing required key 'tls' (ca, cert and key of this receiver)"));
}

TEST_CASE("a missing certificate file is named at its position", "[config]") {
  assas::test::TempDir dir;
  Loaded l = load(dir, "tls:\n  ca: /nonexistent/ca.pem\n  cert: /x.pem\n  key: /x.key\n");
  REQUIRE(l.config.is_ok());
  Status files = validate_ingest_config_files(*l.config);
  REQUIRE(files.message() == l.path + ":2:7: tls.ca: file '/nonexistent/ca.pem' not found");
}

}  // namespace assas::ingest

namespace assas::ingest {

TEST_CASE("the ingest metrics endpoint is off by default and takes an address or true",
          "[config]") {
  assas::test::TempDir dir;
  Loaded off = load(dir, kTls);
  REQUIRE(off.config.is_ok());
  REQUIRE_FALSE(off.config->metrics.enabled);
  Loaded on = load(dir, "ingest:\n  metrics: { listen: \"[::1]:0\" }\n" + kTls);
  INFO(on.config.status().to_string());
  REQUIRE(on.config.is_ok());
  REQUIRE(on.config->metrics.enabled);
  REQUIRE(on.config->metrics.listen.host == "::1");
  REQUIRE(on.config->metrics.listen.port == 0);
  Loaded default_address = load(dir, "ingest:\n  metrics: { listen: true }\n" + kTls);
  REQUIRE(default_address.config.is_ok());
  REQUIRE(default_address.config->metrics.enabled);
  REQUIRE(default_address.config->metrics.listen.to_string() == "127.0.0.1:9465");
}

TEST_CASE("a bad ingest metrics address or key is an error at its position", "[config]") {
  assas::test::TempDir dir;
  Loaded name = load(dir, "ingest:\n  metrics:\n    listen: \"localhost:9465\"\n" + kTls);
  REQUIRE_FALSE(name.config.is_ok());
  REQUIRE_THAT(name.config.status().message(),
               Catch::StartsWith(name.path + ":3:13: ingest.metrics.listen: "));
  Loaded unknown = load(dir, "ingest:\n  metrics:\n    lisen: true\n" + kTls);
  REQUIRE_FALSE(unknown.config.is_ok());
  REQUIRE_THAT(unknown.config.status().message(),
               Catch::StartsWith(unknown.path + ":3:5: ingest.metrics.lisen: unknown key"));
}

}  // namespace assas::ingest
