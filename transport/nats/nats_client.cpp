#include "transport/nats/nats_client.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <unordered_map>

#include "base/log.h"
#include "transport/endpoint.h"
#include "transport/nats/nats_error.h"
#include "transport/nats/nats_stream.h"
#include "transport/nats/nats_subject.h"

namespace assas::transport {
namespace {

// Room for the headers and the protocol line in a message of max_payload bytes.
constexpr size_t kHeaderRoom = 1024;
// How long one js_PublishMsgAsync waits for room under max_pending_acks before we look again
// whether the session is still alive.
constexpr int64_t kStallWaitMs = 200;

constexpr const char* kSeqHeader = "Assas-Seq";

// The live sessions, by token. The lock also guards every client's pending_ and lost_.
struct Registry {
  std::mutex mutex;
  std::unordered_map<uint64_t, NatsClient*> clients;
  uint64_t next_token = 1;
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: cnats threads may call back at exit
  return *r;
}

// The closure cnats hands back is the token itself, never a pointer to dereference: a session's
// callbacks may outlive its client.
void* token_closure(uint64_t token) {
  return reinterpret_cast<void*>(  // NOLINT(performance-no-int-to-ptr): a number, never followed
      static_cast<uintptr_t>(token));
}

uint64_t closure_token(void* closure) {
  return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(closure));
}

}  // namespace

NatsClient::NatsClient(NatsOutputOptions options) : options_(std::move(options)) {
  for (const std::string& text : options_.endpoints) {
    Result<Endpoint> e = parse_endpoint(text);
    if (e.is_ok()) {  // make_nats_output checked them
      urls_.push_back(std::string(options_.use_tls ? "tls://" : "nats://") + e->to_string());
    }
  }
}

NatsClient::~NatsClient() {
  disconnect();
}

Status NatsClient::open_connection() {
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s != NATS_OK) {
    return nats_error(s, "nats options");
  }
  std::vector<const char*> servers;
  for (const std::string& url : urls_) {
    servers.push_back(url.c_str());
  }
  std::string name = "assas-agent " + options_.agent_id;
  auto connect_ms = static_cast<int64_t>(options_.connect_timeout.count());
  const NatsCredentials& c = options_.credentials;
  const char* step = "servers";
  s = natsOptions_SetServers(opts, servers.data(), static_cast<int>(servers.size()));
  // Our backoff reconnects (BrokerOutput), so that everything unacknowledged is resent in order.
  if (s == NATS_OK) {
    step = "options";
    s = natsOptions_SetAllowReconnect(opts, false);
  }
  if (s == NATS_OK) {
    s = natsOptions_SetTimeout(opts, connect_ms);
  }
  if (s == NATS_OK) {
    s = natsOptions_SetName(opts, name.c_str());
  }
  if (s == NATS_OK) {
    s = natsOptions_SetPingInterval(opts, 10000);
  }
  if (s == NATS_OK) {
    s = natsOptions_SetDisconnectedCB(opts, &NatsClient::on_disconnected, token_closure(token_));
  }
  if (s == NATS_OK && options_.use_tls) {
    step = "tls";
    s = natsOptions_SetSecure(opts, true);
    if (s == NATS_OK) {
      s = natsOptions_LoadCATrustedCertificates(opts, options_.tls.ca.c_str());
    }
    if (s == NATS_OK && !options_.tls.cert.empty()) {
      s = natsOptions_LoadCertificatesChain(opts, options_.tls.cert.c_str(),
                                            options_.tls.key.c_str());
    }
    if (s == NATS_OK) {
      // make_nats_output made sure there is a name to verify: server_name, or the endpoints' host.
      std::string host = options_.tls.server_name;
      if (host.empty()) {
        host = parse_endpoint(options_.endpoints.front())->host;
      }
      s = natsOptions_SetExpectedHostname(opts, host.c_str());
    }
  }
  if (s == NATS_OK) {
    step = "credentials";
    if (!c.user.empty()) {
      s = natsOptions_SetUserInfo(opts, c.user.c_str(), c.password.c_str());
    } else if (!c.nkey.empty()) {
      s = natsOptions_SetNKeyFromSeed(opts, c.nkey.c_str(), c.nkey_seed_file.c_str());
    } else if (!c.creds_file.empty()) {
      s = natsOptions_SetUserCredentialsFromFiles(opts, c.creds_file.c_str(), nullptr);
    }
  }
  if (s != NATS_OK) {
    Status why = nats_error(s, std::string("nats ") + step);
    natsOptions_Destroy(opts);
    return why;
  }
  s = natsConnection_Connect(&connection_, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) {
    return nats_error(s, "connecting to " + urls_.front() +
                             (urls_.size() > 1 ? " (or the other endpoints)" : ""));
  }
  jsOptions js_opts;
  jsOptions_Init(&js_opts);
  publish_wait_ms_ = std::max<int64_t>(1000, options_.ack_timeout.count() / 2);
  js_opts.Wait = publish_wait_ms_;
  js_opts.PublishAsync.MaxPending = options_.max_pending_acks;
  js_opts.PublishAsync.AckHandler = &NatsClient::on_ack;
  js_opts.PublishAsync.AckHandlerClosure = token_closure(token_);
  js_opts.PublishAsync.StallWait = kStallWaitMs;
  s = natsConnection_JetStream(&js_, connection_, &js_opts);
  if (s != NATS_OK) {
    return nats_error(s, "jetstream context");
  }
  int64_t max_payload = natsConnection_GetMaxPayload(connection_);
  max_body_bytes_ = max_payload > static_cast<int64_t>(2 * kHeaderRoom)
                        ? static_cast<size_t>(max_payload) - kHeaderRoom
                        : kHeaderRoom;
  if (!options_.stream.name.empty()) {
    ASSAS_RETURN_IF_ERROR(
        ensure_nats_stream(js_, options_.stream, options_.subject, options_.name));
  }
  return Status::ok();
}

Status NatsClient::connect() {
  disconnect();
  {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    token_ = r.next_token++;
    r.clients[token_] = this;
    lost_ = false;
  }
  return open_connection();
}

void NatsClient::disconnect() {
  if (token_ != 0) {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    r.clients.erase(token_);
    pending_.clear();  // their outcomes no longer matter: BrokerOutput resends them
    token_ = 0;
  }
  if (js_ != nullptr) {
    jsCtx_Destroy(js_);
    js_ = nullptr;
  }
  if (connection_ != nullptr) {
    natsConnection_Close(connection_);
    natsConnection_Destroy(connection_);
    connection_ = nullptr;
  }
}

void NatsClient::split(const EncodedBatch& batch, std::vector<Message>& out) const {
  out.clear();
  std::string_view host = batch.events.empty() ? "" : event_json_host(batch.events.front().json);
  std::string subject;
  for (size_t i = 0; i < batch.events.size(); ++i) {
    const EncodedEvent& event = batch.events[i];
    subject.clear();
    append_subject(subject, options_.subject,
                   SubjectValues{options_.agent_id, host, event.collector});
    if (options_.publish == NatsPublishMode::kEvent) {
      out.push_back(Message{subject, std::string(event.json), static_cast<int64_t>(i)});
      continue;
    }
    // One message per subject, in the order the subjects first appear; a new one where the
    // server's max_payload would be passed. The split depends only on the batch and max_payload,
    // so a resend carries the same message ids.
    auto it = std::find_if(out.rbegin(), out.rend(),
                           [&](const Message& m) { return m.subject == subject; });
    if (it == out.rend() ||
        (!it->body.empty() && it->body.size() + event.json.size() + 1 > max_body_bytes_)) {
      out.push_back(Message{subject, {}, static_cast<int64_t>(i)});
      it = out.rbegin();
    }
    it->body.append(event.json);
    it->body.push_back('\n');
  }
  if (options_.publish == NatsPublishMode::kBatch && out.size() == 1) {
    out.front().first_event = -1;  // the whole batch: its id is (agent, stream, seq)
  }
}

Status NatsClient::publish(const EncodedBatch& batch, PublishDone done) {
  if (js_ == nullptr) {
    return unavailable("not connected to NATS");
  }
  split(batch, messages_);
  if (messages_.empty()) {
    done(Status::ok());
    return Status::ok();
  }
  {
    std::lock_guard lock(registry().mutex);
    if (lost_) {
      return unavailable("the connection to NATS was lost");
    }
    pending_[batch.seq] = Pending{std::move(done), messages_.size()};
  }
  for (const Message& m : messages_) {
    Status sent = send_message(batch.seq, m);
    if (!sent.is_ok()) {
      std::lock_guard lock(registry().mutex);
      pending_.erase(batch.seq);  // the caller reports the error; late answers are ignored
      return sent;
    }
  }
  return Status::ok();
}

Status NatsClient::send_message(uint64_t seq, const Message& m) {
  std::string id = broker_message_id(options_.agent_id, options_.stream_id, seq, m.first_event);
  std::string seq_text = std::to_string(seq);
  natsMsg* msg = nullptr;
  natsStatus s = natsMsg_Create(&msg, m.subject.c_str(), nullptr, m.body.data(),
                                static_cast<int>(m.body.size()));
  if (s == NATS_OK) {
    s = natsMsgHeader_Set(msg, "Nats-Msg-Id", id.c_str());
  }
  if (s == NATS_OK) {
    s = natsMsgHeader_Set(msg, kSeqHeader, seq_text.c_str());
  }
  if (s == NATS_OK) {
    s = natsMsgHeader_Set(msg, "Assas-Agent", options_.agent_id.c_str());
  }
  jsPubOptions pub;
  jsPubOptions_Init(&pub);
  pub.MaxWait = publish_wait_ms_;  // then the answer is a timeout error, and the session restarts
  if (!options_.stream.name.empty()) {
    pub.ExpectStream = options_.stream.name.c_str();
  }
  // Backpressure: with max_pending_acks answers outstanding, cnats makes us wait (StallWait at a
  // time) until JetStream answers; the session is given up after ack_timeout of that.
  auto deadline = std::chrono::steady_clock::now() + options_.ack_timeout;
  while (s == NATS_OK) {
    s = js_PublishMsgAsync(js_, &msg, &pub);
    if (s != NATS_TIMEOUT) {
      break;
    }
    std::lock_guard lock(registry().mutex);
    if (lost_ || std::chrono::steady_clock::now() >= deadline) {
      break;
    }
    s = NATS_OK;
  }
  natsMsg_Destroy(msg);  // NULL once cnats took it
  if (s != NATS_OK) {
    return nats_error(s, "publishing to '" + m.subject + "'");
  }
  bytes_sent_.fetch_add(m.body.size(), std::memory_order_relaxed);
  return Status::ok();
}

void NatsClient::settle(uint64_t seq, const Status& status) {
  auto it = pending_.find(seq);
  if (it == pending_.end()) {
    return;  // already failed, or of a batch given up
  }
  if (status.is_ok() && --it->second.remaining > 0) {
    return;
  }
  PublishDone done = std::move(it->second.done);
  pending_.erase(it);
  done(status);
}

void NatsClient::on_ack(jsCtx* /*js*/, natsMsg* msg, jsPubAck* /*ack*/, jsPubAckErr* error,
                        void* closure) noexcept {
  const char* seq_text = nullptr;
  if (natsMsgHeader_Get(msg, kSeqHeader, &seq_text) == NATS_OK && seq_text != nullptr) {
    uint64_t seq = std::strtoull(seq_text, nullptr, 10);
    Status status = Status::ok();
    if (error != nullptr) {
      std::string text =
          error->ErrText != nullptr ? error->ErrText : natsStatus_GetText(error->Err);
      status = error->Err == NATS_TIMEOUT
                   ? unavailable("JetStream did not answer in time for " +
                                 std::string(natsMsg_GetSubject(msg)) + ": " + text)
                   : nats_error(error->Err,
                                "JetStream refused a message for " +
                                    std::string(natsMsg_GetSubject(msg)) + ": " + text,
                                error->ErrCode);
    }
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    auto it = r.clients.find(closure_token(closure));
    if (it != r.clients.end()) {
      it->second->settle(seq, status);
    }
  }
  natsMsg_Destroy(msg);
}

void NatsClient::on_disconnected(natsConnection* /*connection*/, void* closure) noexcept {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.clients.find(closure_token(closure));
  if (it == r.clients.end()) {
    return;
  }
  NatsClient* self = it->second;
  self->lost_ = true;
  // Everything in flight fails at once: the session starts again (BrokerOutput), rather than
  // waiting for answers that cannot come on this connection.
  std::map<uint64_t, Pending> pending;
  pending.swap(self->pending_);
  for (auto& [seq, p] : pending) {
    p.done(unavailable("the connection to the NATS server was lost"));
  }
}

}  // namespace assas::transport
