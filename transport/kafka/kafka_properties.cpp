#include "transport/kafka/kafka_properties.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string_view>

#include <sys/stat.h>

#include "base/file_util.h"

namespace assas::transport {
namespace {

// Properties the output sets itself, because the delivery guarantee or the security rests on
// them; each is refused under librdkafka: with what to use instead.
struct Reserved {
  std::string_view name;
  std::string_view instead;
};
constexpr Reserved kReserved[] = {
    {"enable.idempotence", "it is always true (no duplicates or reordering within a session)"},
    {"acks", "it is always all"},
    {"request.required.acks", "acks is always all"},
    {"max.in.flight.requests.per.connection", "it is 5, the most idempotence keeps in order"},
    {"max.in.flight", "it is 5, the most idempotence keeps in order"},
    {"message.timeout.ms", "use delivery_timeout"},
    {"delivery.timeout.ms", "use delivery_timeout"},
    {"linger.ms", "use linger"},
    {"queue.buffering.max.ms", "use linger"},
    {"queue.buffering.max.messages", "it is bounded from max_inflight"},
    {"queue.buffering.max.kbytes", "it is bounded from max_inflight"},
    {"message.max.bytes", "use max_message_size"},
    {"compression.codec", "use compression"},
    {"compression.type", "use compression"},
    {"enable.gapless.guarantee", "delivery reports already fail the batch on any error"},
    {"partitioner", "records are partitioned by key so that each key stays in order"},
    {"bootstrap.servers", "use endpoints"},
    {"metadata.broker.list", "use endpoints"},
    {"security.protocol", "use transport (tls or tcp) and sasl"},
    {"enable.ssl.certificate.verification", "the broker's certificate is always verified"},
    {"ssl.endpoint.identification.algorithm", "the broker's name is always verified"},
    {"ssl.ca.location", "use tls: ca"},
    {"ssl.certificate.location", "use tls: cert"},
    {"ssl.key.location", "use tls: key"},
    {"ssl.key.password", "use a key file without a passphrase, readable by the agent only"},
    {"sasl.mechanisms", "use sasl: mechanism"},
    {"sasl.mechanism", "use sasl: mechanism"},
    {"sasl.username", "use sasl: username"},
    {"sasl.password", "use sasl: password_file"},
};

// The password, from a file that only its owner may read; one trailing newline is not part of it.
Result<std::string> read_password(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return posix_status("sasl password_file '" + path + "'", errno);
  }
  if (!S_ISREG(st.st_mode)) {
    return invalid_argument("sasl password_file '" + path + "' is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return permission_denied("sasl password_file '" + path +
                             "' is readable by group or others (mode " + mode +
                             "); run: chmod 600 " + path);
  }
  Result<std::string> text = read_file(path, 4096);
  if (!text.is_ok()) {
    return text.status().with_context("sasl password_file");
  }
  std::string password = std::move(text).value();
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
    password.pop_back();
  }
  if (password.empty()) {
    return invalid_argument("sasl password_file '" + path + "' is empty");
  }
  return password;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    out += (out.empty() ? "" : ",") + item;
  }
  return out;
}

}  // namespace

Result<KafkaProperties> kafka_properties(const KafkaOutputOptions& o) {
  // librdkafka's queue holds each record as JSON plus a few hundred bytes of its own, several
  // times the compressed batch bytes that max_inflight counts. BrokerOutput's window bounds it
  // first; these bound it whatever happens, and keep the agent's memory flat (with the default
  // max_inflight of 8 MiB: 32 MiB and 32,768 records, about 50 MiB of RSS in bench/kafka.sh).
  uint64_t queue_kbytes = std::clamp<uint64_t>(o.max_inflight_bytes * 4 / 1024, 16384, 1048576);
  uint64_t queue_messages = std::clamp<uint64_t>(o.max_inflight_bytes / 256, 10000, 1000000);
  KafkaProperties p = {
      {"bootstrap.servers", join(o.endpoints)},
      {"client.id", "assas-agent"},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"max.in.flight.requests.per.connection", "5"},
      {"compression.codec", o.compression},
      {"message.timeout.ms", std::to_string(o.delivery_timeout.count())},
      {"linger.ms", std::to_string(o.linger.count())},
      {"message.max.bytes", std::to_string(o.max_message_bytes)},
      {"queue.buffering.max.kbytes", std::to_string(queue_kbytes)},
      {"queue.buffering.max.messages", std::to_string(queue_messages)},
      {"socket.connection.setup.timeout.ms",
       std::to_string(std::max<int64_t>(o.connect_timeout.count(), 1000))},  // its minimum
      {"reconnect.backoff.ms", std::to_string(o.backoff_min.count())},
      {"reconnect.backoff.max.ms", std::to_string(o.backoff_max.count())},
      // A topic that does not exist is a configuration error, not something to create.
      {"allow.auto.create.topics", "false"},
  };
  bool sasl = !o.sasl.mechanism.empty();
  if (o.use_tls) {
    p.emplace_back("security.protocol", sasl ? "sasl_ssl" : "ssl");
    p.emplace_back("ssl.ca.location", o.tls.ca);
    if (!o.tls.cert.empty()) {
      p.emplace_back("ssl.certificate.location", o.tls.cert);
      p.emplace_back("ssl.key.location", o.tls.key);
    }
    p.emplace_back("enable.ssl.certificate.verification", "true");
    p.emplace_back("ssl.endpoint.identification.algorithm", "https");
  } else {
    p.emplace_back("security.protocol", sasl ? "sasl_plaintext" : "plaintext");
  }
  if (sasl) {
    Result<std::string> password = read_password(o.sasl.password_file);
    if (!password.is_ok()) {
      return password.status();
    }
    p.emplace_back("sasl.mechanisms", o.sasl.mechanism);
    p.emplace_back("sasl.username", o.sasl.username);
    p.emplace_back("sasl.password", std::move(password).value());
  }
  for (const auto& [name, value] : o.librdkafka) {
    for (const Reserved& r : kReserved) {
      if (name == r.name) {
        return invalid_argument("librdkafka: " + name +
                                " cannot be set: " + std::string(r.instead));
      }
    }
    p.emplace_back(name, value);
  }
  return p;
}

Result<rd_kafka_conf_t*> make_kafka_conf(const KafkaProperties& properties) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  for (const auto& [name, value] : properties) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      // errstr names the property; a secret's value is never quoted by librdkafka nor here.
      return invalid_argument("librdkafka property " + name + ": " + errstr);
    }
  }
  return conf;
}

}  // namespace assas::transport
