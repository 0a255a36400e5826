#include "tests/integration/nats_cluster.h"

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <thread>

#include <nats/nats.h>

#include "tests/integration/syslog_receivers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace assas::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kServer = "/usr/sbin/nats-server";

std::string text_of(natsStatus s) {
  natsStatus last = NATS_OK;
  const char* detail = nats_GetLastError(&last);
  return std::string(natsStatus_GetText(s)) + (detail != nullptr ? std::string(": ") + detail : "");
}

// The test's own connection (the SIEM's side), closed when it goes out of scope.
struct Client {
  natsConnection* connection = nullptr;
  jsCtx* js = nullptr;
  ~Client() {
    if (js != nullptr) {
      jsCtx_Destroy(js);
    }
    if (connection != nullptr) {
      natsConnection_Close(connection);
      natsConnection_Destroy(connection);
    }
  }
};

}  // namespace

NatsCluster::NatsCluster(NatsClusterOptions options) : options_(std::move(options)) {
  std::filesystem::create_directories(options_.dir);
  for (size_t i = 0; i < kNodes; ++i) {
    client_ports_[i] = pick_free_port();
    route_ports_[i] = pick_free_port();
  }
  for (size_t i = 0; i < kNodes; ++i) {
    start(i);
  }
  wait_ready(60s);
}

NatsCluster::~NatsCluster() {
  for (size_t i = 0; i < kNodes; ++i) {
    stop(i);
  }
}

std::string NatsCluster::endpoint(size_t i) const {
  return "127.0.0.1:" + std::to_string(client_ports_[i]);
}

std::string NatsCluster::endpoints_yaml(const std::string& host) const {
  std::string list = "[";
  for (size_t i = 0; i < kNodes; ++i) {
    list += (i == 0 ? "\"" : ", \"") + host + ":" + std::to_string(client_ports_[i]) + "\"";
  }
  return list + "]";
}

std::string NatsCluster::config_path(size_t i) const {
  return options_.dir + "/n" + std::to_string(i) + ".conf";
}

std::string NatsCluster::log(size_t i) const {
  return read_text_file(options_.dir + "/n" + std::to_string(i) + ".log");
}

void NatsCluster::write_config(size_t i) const {
  std::string routes;
  for (size_t j = 0; j < kNodes; ++j) {
    routes += "    nats-route://127.0.0.1:" + std::to_string(route_ports_[j]) + "\n";
  }
  std::string conf = "server_name: n" + std::to_string(i) +
                     "\nlisten: 127.0.0.1:" + std::to_string(client_ports_[i]) +
                     "\njetstream { store_dir: \"" + options_.dir + "/store" + std::to_string(i) +
                     "\" }\ncluster {\n  name: assas-test\n  listen: 127.0.0.1:" +
                     std::to_string(route_ports_[i]) + "\n  routes: [\n" + routes + "  ]\n}\n";
  if (!options_.tls_cert.empty()) {
    conf += "tls { cert_file: \"" + options_.tls_cert + "\"\n  key_file: \"" + options_.tls_key +
            "\" }\n";
  }
  if (!options_.user.empty()) {
    conf += "authorization { user: \"" + options_.user + "\"\n  password: \"" + options_.password +
            "\" }\n";
  }
  write_text_file(config_path(i), conf);
}

void NatsCluster::start(size_t i) {
  write_config(i);
  // "Server is ready" in what this start appended to the node's log: the client port listens.
  std::string log_path = options_.dir + "/n" + std::to_string(i) + ".log";
  size_t before = read_text_file(log_path).size();
  nodes_[i].start({kServer, "-c", config_path(i)}, {}, log_path);
  if (!wait_for(
          [&] {
            std::string now = read_text_file(log_path);
            return now.size() > before && now.find("Server is ready", before) != std::string::npos;
          },
          20s)) {
    throw std::runtime_error("nats-server node " + std::to_string(i) + " did not start:\n" +
                             read_text_file(log_path));
  }
}

void NatsCluster::stop(size_t i) {
  if (nodes_[i].is_running()) {
    nodes_[i].terminate(5s);
  }
}

std::vector<std::string> NatsCluster::client_urls() const {
  std::vector<std::string> urls;
  for (size_t i = 0; i < kNodes; ++i) {
    urls.push_back(std::string(options_.tls_cert.empty() ? "nats://" : "tls://") + endpoint(i));
  }
  return urls;
}

namespace {

// Connects the test's client to any running node; empty on failure (the reason in why).
std::unique_ptr<Client> connect_client(const NatsClusterOptions& o,
                                       const std::vector<std::string>& urls, std::string& why) {
  auto client = std::make_unique<Client>();
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK) {
    std::vector<const char*> servers;
    for (const std::string& url : urls) {
      servers.push_back(url.c_str());
    }
    s = natsOptions_SetServers(opts, servers.data(), static_cast<int>(servers.size()));
  }
  if (s == NATS_OK) {
    s = natsOptions_SetTimeout(opts, 2000);
  }
  if (s == NATS_OK && !o.tls_ca.empty()) {
    s = natsOptions_SetSecure(opts, true);
    if (s == NATS_OK) {
      s = natsOptions_LoadCATrustedCertificates(opts, o.tls_ca.c_str());
    }
    if (s == NATS_OK) {
      s = natsOptions_SetExpectedHostname(opts, "localhost");
    }
  }
  if (s == NATS_OK && !o.user.empty()) {
    s = natsOptions_SetUserInfo(opts, o.user.c_str(), o.password.c_str());
  }
  if (s == NATS_OK) {
    s = natsConnection_Connect(&client->connection, opts);
  }
  natsOptions_Destroy(opts);
  if (s == NATS_OK) {
    jsOptions js_opts;
    jsOptions_Init(&js_opts);
    js_opts.Wait = 5000;
    s = natsConnection_JetStream(&client->js, client->connection, &js_opts);
  }
  if (s != NATS_OK) {
    why = text_of(s);
    return nullptr;
  }
  return client;
}

}  // namespace

void NatsCluster::wait_ready(std::chrono::milliseconds deadline) {
  std::string why;
  bool ready = wait_for(
      [&] {
        std::unique_ptr<Client> c = connect_client(options_, client_urls(), why);
        if (!c) {
          return false;
        }
        jsAccountInfo* info = nullptr;
        jsErrCode code = static_cast<jsErrCode>(0);
        natsStatus s = js_GetAccountInfo(&info, c->js, nullptr, &code);
        if (s != NATS_OK) {
          why = text_of(s);
          return false;
        }
        jsAccountInfo_Destroy(info);
        return true;
      },
      deadline, 250ms);
  if (!ready) {
    throw std::runtime_error("the NATS cluster has no JetStream meta leader: " + why);
  }
}

void NatsCluster::create_stream(const std::string& name, const std::string& subjects,
                                std::chrono::milliseconds duplicate_window) {
  std::string why;
  bool made = wait_for(
      [&] {
        std::unique_ptr<Client> c = connect_client(options_, client_urls(), why);
        if (!c) {
          return false;
        }
        const char* subject_list[] = {subjects.c_str()};
        jsStreamConfig cfg;
        jsStreamConfig_Init(&cfg);
        cfg.Name = name.c_str();
        cfg.Subjects = subject_list;
        cfg.SubjectsLen = 1;
        cfg.Storage = js_FileStorage;
        cfg.Replicas = 3;
        cfg.Duplicates =
            std::chrono::duration_cast<std::chrono::nanoseconds>(duplicate_window).count();
        jsStreamInfo* info = nullptr;
        jsErrCode code = static_cast<jsErrCode>(0);
        natsStatus s = js_AddStream(&info, c->js, &cfg, nullptr, &code);
        if (s != NATS_OK) {
          why = text_of(s) + " code " + std::to_string(static_cast<int>(code));
          return false;
        }
        jsStreamInfo_Destroy(info);
        return true;
      },
      60s, 250ms);
  if (!made) {
    throw std::runtime_error("cannot create stream " + name + ": " + why);
  }
}

namespace {

// Calls use(info) with stream name's info, read through a fresh connection; false if it could not.
template <typename Use>
bool with_stream_info(const NatsClusterOptions& o, const std::vector<std::string>& urls,
                      const std::string& name, Use&& use) {
  std::string why;
  std::unique_ptr<Client> c = connect_client(o, urls, why);
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  if (!c || js_GetStreamInfo(&info, c->js, name.c_str(), nullptr, &code) != NATS_OK) {
    return false;
  }
  use(*info);
  jsStreamInfo_Destroy(info);
  return true;
}

}  // namespace

size_t NatsCluster::stream_leader(const std::string& name) {
  size_t leader = kNodes;
  wait_for(
      [&] {
        with_stream_info(options_, client_urls(), name, [&](const jsStreamInfo& info) {
          for (size_t i = 0;
               i < kNodes && info.Cluster != nullptr && info.Cluster->Leader != nullptr; ++i) {
            if (std::string(info.Cluster->Leader) == "n" + std::to_string(i)) {
              leader = i;
            }
          }
        });
        return leader < kNodes;
      },
      30s, 200ms);
  if (leader == kNodes) {
    throw std::runtime_error("stream " + name + " has no leader");
  }
  return leader;
}

int64_t NatsCluster::message_count(const std::string& name) {
  int64_t n = -1;
  with_stream_info(options_, client_urls(), name,
                   [&](const jsStreamInfo& info) { n = static_cast<int64_t>(info.State.Msgs); });
  return n;
}

std::vector<NatsStoredMessage> NatsCluster::read_all(const std::string& name,
                                                     const std::string& subjects) {
  std::string why;
  std::unique_ptr<Client> c;
  wait_for([&] { return (c = connect_client(options_, client_urls(), why)) != nullptr; }, 30s);
  if (!c) {
    throw std::runtime_error("cannot connect to read stream " + name + ": " + why);
  }
  int64_t total = -1;
  wait_for([&] { return (total = message_count(name)) >= 0; }, 30s);
  jsSubOptions sub_opts;
  jsSubOptions_Init(&sub_opts);
  sub_opts.Stream = name.c_str();
  sub_opts.Config.AckPolicy = js_AckNone;
  sub_opts.Config.DeliverPolicy = js_DeliverAll;
  natsSubscription* sub = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = NATS_OK;
  // Making the consumer needs the stream's leader, which a node killed or restarted a moment ago
  // may still be electing: try again until it answers (bounded).
  wait_for(
      [&] {
        s = js_PullSubscribe(&sub, c->js, subjects.c_str(), nullptr, nullptr, &sub_opts, &code);
        return s == NATS_OK;
      },
      30s, 250ms);
  if (s != NATS_OK) {
    throw std::runtime_error("cannot subscribe to stream " + name + ": " + text_of(s));
  }
  std::vector<NatsStoredMessage> out;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (static_cast<int64_t>(out.size()) < total && std::chrono::steady_clock::now() < deadline) {
    natsMsgList list{};
    s = natsSubscription_Fetch(&list, sub, 1000, 2000, &code);
    if (s != NATS_OK && s != NATS_TIMEOUT) {
      continue;
    }
    for (int i = 0; i < list.Count; ++i) {
      natsMsg* m = list.Msgs[i];
      const char* id = nullptr;
      if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) != NATS_OK) {
        id = "";
      }
      out.push_back(NatsStoredMessage{
          natsMsg_GetSubject(m), id,
          std::string(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)))});
    }
    natsMsgList_Destroy(&list);
  }
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  return out;
}

}  // namespace assas::test
