#pragma once

// A 3-node NATS JetStream cluster for integration tests: real nats-server processes on free
// 127.0.0.1 ports, each with its store directory in the test's temporary directory, started and
// stopped by PID (ProcessGuard), every wait bounded. Optionally TLS on the client port (a
// certificate for localhost from the test PKI) and a user/password.
//
// And the SIEM's side, in the test process (cnats): creating an R3 stream, finding and killing its
// leader, and reading every message of a stream back with a pull consumer.

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/support/process_guard.h"

namespace assas::test {

struct NatsClusterOptions {
  std::string dir;  // the cluster's files go here (created)
  // TLS on the client port: the server's certificate and key, and the CA the test's own client
  // trusts. Empty: plain TCP.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  std::string user;  // empty: no authorization
  std::string password;
};

// One message as stored in the stream.
struct NatsStoredMessage {
  std::string subject;
  std::string msg_id;  // the Nats-Msg-Id header
  std::string data;
};

class NatsCluster {
 public:
  static constexpr size_t kNodes = 3;

  // Starts the three nodes and waits (bounded) until JetStream has a meta leader. Throws
  // std::runtime_error if it cannot.
  explicit NatsCluster(NatsClusterOptions options);
  ~NatsCluster();
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  // "127.0.0.1:<port>" of node i's client port.
  std::string endpoint(size_t i) const;
  // The YAML flow list of every node's endpoint, host given (e.g. "localhost" for TLS).
  std::string endpoints_yaml(const std::string& host = "127.0.0.1") const;

  // Creates stream name on subjects with 3 replicas (file storage) and duplicate_window;
  // retries (bounded) while the cluster elects its leaders.
  void create_stream(const std::string& name, const std::string& subjects,
                     std::chrono::milliseconds duplicate_window);
  // The node index that leads stream name now; throws if none within the deadline.
  size_t stream_leader(const std::string& name);
  // Every message of stream name on subjects, in stream order, read with an ephemeral pull
  // consumer (no acks). Stops once it has as many as the stream holds (bounded).
  std::vector<NatsStoredMessage> read_all(const std::string& name, const std::string& subjects);
  // How many messages stream name holds now; -1 if it cannot say.
  int64_t message_count(const std::string& name);

  void kill9(size_t i) { nodes_[i].kill9(); }
  void stop(size_t i);
  // Starts node i again on its ports with its store.
  void start(size_t i);
  // Waits (bounded) until JetStream answers through the test client again.
  void wait_ready(std::chrono::milliseconds deadline);
  std::string log(size_t i) const;

 private:
  void write_config(size_t i) const;
  std::string config_path(size_t i) const;
  std::vector<std::string> client_urls() const;

  NatsClusterOptions options_;
  std::array<int, kNodes> client_ports_{};
  std::array<int, kNodes> route_ports_{};
  std::array<ProcessGuard, kNodes> nodes_;
};

}  // namespace assas::test
