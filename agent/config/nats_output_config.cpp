// The keys of a `type: nats` output (docs/outputs/nats.md): the shared keys (endpoints, transport,
// tls, backoff, max_inflight, connect_timeout) and subject, publish, credentials,
// max_pending_acks, max_inflight_batches, ack_timeout and stream.

#include <fstream>
#include <sstream>

#include "agent/config/output_config.h"
#include "base/config_files.h"
#include "transport/nats/nats_subject.h"

namespace assas::agent {
namespace {

using std::chrono::milliseconds;

// A secret file's path: a regular file, not readable by group or others (as ssh wants keys).
Status secret_file(const ConfigNode& parent, std::string_view key, std::string& out) {
  std::optional<ConfigNode> value = parent.get(key);
  if (!value) {
    return Status::ok();
  }
  ASSAS_RETURN_IF_ERROR(parent.required_string(key, out));
  return check_config_file(*value, ConfigFileKind::kPrivateKey);
}

Status parse_credentials(const ConfigNode& node, transport::NatsCredentials& c) {
  std::optional<ConfigNode> creds = node.get("credentials");
  if (!creds) {
    return Status::ok();
  }
  ASSAS_RETURN_IF_ERROR(creds->expect_map());
  ASSAS_RETURN_IF_ERROR(creds->optional_string("user", c.user));
  ASSAS_RETURN_IF_ERROR(creds->optional_string("password", c.password));
  ASSAS_RETURN_IF_ERROR(secret_file(*creds, "password_file", c.password_file));
  ASSAS_RETURN_IF_ERROR(creds->optional_string("nkey", c.nkey));
  ASSAS_RETURN_IF_ERROR(secret_file(*creds, "nkey_seed_file", c.nkey_seed_file));
  ASSAS_RETURN_IF_ERROR(secret_file(*creds, "creds_file", c.creds_file));
  ASSAS_RETURN_IF_ERROR(creds->no_unknown_keys());
  bool password = creds->has("password") || creds->has("password_file");
  int ways = (c.user.empty() ? 0 : 1) + (c.nkey.empty() ? 0 : 1) + (c.creds_file.empty() ? 0 : 1);
  if (ways != 1) {
    return creds->error(
        "set exactly one way to log in: user (with password or password_file), nkey (with "
        "nkey_seed_file) or creds_file");
  }
  if (!c.user.empty() && !password) {
    return creds->error("user needs password or password_file");
  }
  if (creds->has("password") && creds->has("password_file")) {
    return creds->error("set password or password_file, not both");
  }
  if (password && c.user.empty()) {
    return creds->error("a password goes with a user");
  }
  if (c.nkey.empty() != c.nkey_seed_file.empty()) {
    return creds->error("nkey (the user's public key, U...) and nkey_seed_file go together");
  }
  if (!c.password_file.empty()) {
    std::ifstream in(c.password_file);
    std::stringstream text;
    text << in.rdbuf();
    c.password = text.str();
    while (!c.password.empty() && (c.password.back() == '\n' || c.password.back() == '\r')) {
      c.password.pop_back();
    }
    if (!in || c.password.empty()) {
      return creds->get("password_file")
          ->error("cannot read a password from '" + c.password_file + "'");
    }
  }
  return Status::ok();
}

Status parse_stream(const ConfigNode& node, transport::NatsStreamOptions& s) {
  std::optional<ConfigNode> stream = node.get("stream");
  if (!stream) {
    return Status::ok();
  }
  ASSAS_RETURN_IF_ERROR(stream->expect_map());
  ASSAS_RETURN_IF_ERROR(stream->required_string("name", s.name));
  ASSAS_RETURN_IF_ERROR(stream->optional_bool("create", s.create));
  uint64_t replicas = static_cast<uint64_t>(s.replicas);
  ASSAS_RETURN_IF_ERROR(stream->optional_uint("replicas", replicas, 1, 5));
  s.replicas = static_cast<int64_t>(replicas);
  ASSAS_RETURN_IF_ERROR(
      stream->optional_millis("max_age", s.max_age, milliseconds(0), std::chrono::hours(87600)));
  if (stream->has("max_bytes")) {
    uint64_t max_bytes = 0;
    ASSAS_RETURN_IF_ERROR(stream->optional_size("max_bytes", max_bytes, 1 << 20, 1ULL << 50));
    s.max_bytes = static_cast<int64_t>(max_bytes);
  }
  ASSAS_RETURN_IF_ERROR(stream->optional_millis("duplicate_window", s.duplicate_window,
                                                milliseconds(1000), std::chrono::hours(24 * 7)));
  ASSAS_RETURN_IF_ERROR(stream->optional_string_list("subjects", s.subjects));
  ASSAS_RETURN_IF_ERROR(stream->no_unknown_keys());
  if (!s.create) {
    for (std::string_view key : {"replicas", "max_age", "max_bytes", "subjects"}) {
      if (stream->has(key)) {
        return stream->get(key)->error(std::string(key) +
                                       " applies when the agent creates the stream; add "
                                       "create: true or remove it");
      }
    }
  }
  return Status::ok();
}

}  // namespace

Status parse_nats(const ConfigNode& node, OutputSpec& out) {
  transport::NatsOutputOptions o;
  ASSAS_RETURN_IF_ERROR(parse_session(node, o));
  ASSAS_RETURN_IF_ERROR(parse_transport(node, false, out, o));
  ASSAS_RETURN_IF_ERROR(node.optional_string("subject", o.subject));
  Status subject = transport::validate_subject_template(o.subject);
  if (!subject.is_ok()) {
    return node.get("subject")->error(subject.message());
  }
  std::string publish = "batch";
  ASSAS_RETURN_IF_ERROR(node.optional_choice("publish", publish, {"batch", "event"}));
  o.publish =
      publish == "event" ? transport::NatsPublishMode::kEvent : transport::NatsPublishMode::kBatch;
  uint64_t pending = o.max_pending_acks;
  ASSAS_RETURN_IF_ERROR(node.optional_uint("max_pending_acks", pending, 1, 1 << 20));
  o.max_pending_acks = static_cast<uint32_t>(pending);
  uint64_t batches = o.max_inflight_batches;
  ASSAS_RETURN_IF_ERROR(node.optional_uint("max_inflight_batches", batches, 1, 4096));
  o.max_inflight_batches = static_cast<uint32_t>(batches);
  ASSAS_RETURN_IF_ERROR(node.optional_millis("ack_timeout", o.ack_timeout, milliseconds(1000),
                                             milliseconds(3600000)));
  ASSAS_RETURN_IF_ERROR(parse_credentials(node, o.credentials));
  ASSAS_RETURN_IF_ERROR(parse_stream(node, o.stream));
  out.options = std::move(o);
  return Status::ok();
}

}  // namespace assas::agent
