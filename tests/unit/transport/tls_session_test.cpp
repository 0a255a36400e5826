#include "transport/tls/tls_session.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace assas::transport {
namespace {

struct Pair {
  std::unique_ptr<TlsSession> client;
  std::unique_ptr<TlsSession> server;
  std::string client_got;
  std::string server_got;
  Status client_status;
  Status server_status;

  // Moves bytes both ways until nothing moves or one side fails.
  void pump() {
    for (int i = 0; i < 50 && client_status.is_ok() && server_status.is_ok(); ++i) {
      std::string to_server = client->take_output();
      std::string to_client = server->take_output();
      if (to_server.empty() && to_client.empty()) {
        return;
      }
      if (!to_server.empty()) {
        server_status = server->receive(to_server, server_got);
      }
      if (!to_client.empty() && server_status.is_ok()) {
        client_status = client->receive(to_client, client_got);
      }
    }
  }
};

Pair connect(const TlsConfig& client_config, const TlsConfig& server_config,
             const std::string& server_name) {
  auto client_ctx = TlsContext::make_client(client_config);
  REQUIRE(client_ctx.status().to_string() == "OK");
  auto server_ctx = TlsContext::make_server(server_config);
  REQUIRE(server_ctx.status().to_string() == "OK");
  Pair p;
  p.client = std::move(TlsSession::client(*client_ctx, server_name)).value();
  p.server = std::move(TlsSession::server(*server_ctx)).value();
  REQUIRE(p.client->start().is_ok());
  p.pump();
  return p;
}

struct Fixture {
  assas::test::TempDir dir;
  assas::test::TestPki pki = assas::test::make_test_pki(dir.file("pki"), "web-01");
  TlsConfig client() const { return {pki.ca(), pki.client_cert(), pki.client_key(), ""}; }
  TlsConfig server() const { return {pki.ca(), pki.server_cert(), pki.server_key(), ""}; }
};

}  // namespace

TEST_CASE("mutual TLS 1.3 over memory buffers exchanges data and names the client", "[tls]") {
  Fixture f;
  Pair p = connect(f.client(), f.server(), "localhost");
  REQUIRE(p.client_status.is_ok());
  REQUIRE(p.server_status.is_ok());
  REQUIRE(p.client->handshake_complete());
  REQUIRE(p.server->handshake_complete());
  REQUIRE(p.server->peer_identity() == "web-01");
  REQUIRE(p.client->send("hello from the agent").is_ok());
  REQUIRE(p.server->send("hello from the SOC").is_ok());
  p.pump();
  REQUIRE(p.server_got == "hello from the agent");
  REQUIRE(p.client_got == "hello from the SOC");
}

TEST_CASE("an IP address is verified against the certificate's IP names", "[tls]") {
  Fixture f;
  Pair p = connect(f.client(), f.server(), "127.0.0.1");
  REQUIRE(p.client_status.is_ok());
  REQUIRE(p.client->handshake_complete());
}

TEST_CASE("a server certificate for another name is refused with the reason", "[tls]") {
  Fixture f;
  Pair p = connect(f.client(), f.server(), "soc1.example.ma");
  REQUIRE(p.client_status.code() == StatusCode::kPermissionDenied);
  REQUIRE_THAT(p.client_status.message(), Catch::Contains("hostname mismatch"));
}

TEST_CASE("a peer signed by another CA is refused on both sides", "[tls]") {
  Fixture f;
  assas::test::TestPki other = assas::test::make_test_pki(f.dir.file("other"), "intruder");
  TlsConfig intruder{f.pki.ca(), other.client_cert(), other.client_key(), ""};
  Pair p = connect(intruder, f.server(), "localhost");
  REQUIRE_FALSE(p.server_status.is_ok());
  REQUIRE(p.server_status.code() == StatusCode::kPermissionDenied);

  TlsConfig trusts_other{other.ca(), f.pki.client_cert(), f.pki.client_key(), ""};
  Pair q = connect(trusts_other, f.server(), "localhost");
  REQUIRE_THAT(q.client_status.message(),
               Catch::Contains(
                   "TLS peer certificate refused: self-signed certificate in certificate chain"));
}

TEST_CASE("a client certificate cannot pose as a server", "[tls]") {
  Fixture f;
  TlsConfig fake_server{f.pki.ca(), f.pki.client_cert(), f.pki.client_key(), ""};
  Pair p = connect(f.client(), fake_server, "web-01");
  REQUIRE(p.client_status.code() == StatusCode::kPermissionDenied);
}

TEST_CASE("a private key readable by others is refused with the fix", "[tls]") {
  Fixture f;
  REQUIRE(::chmod(f.pki.client_key().c_str(), 0644) == 0);
  auto ctx = TlsContext::make_client(f.client());
  REQUIRE(ctx.status().message() == "key file '" + f.pki.client_key() +
                                        "' is readable by group or others (mode 0644); run: "
                                        "chmod 600 " +
                                        f.pki.client_key());
}

TEST_CASE("a missing CA file is named", "[tls]") {
  Fixture f;
  TlsConfig config = f.client();
  config.ca = f.dir.file("nope.pem");
  auto ctx = TlsContext::make_client(config);
  REQUIRE(ctx.status().code() == StatusCode::kNotFound);
  REQUIRE(ctx.status().message() == "CA file '" + config.ca + "' not found");
}

}  // namespace assas::transport
