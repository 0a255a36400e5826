#include "transport/kafka/kafka_client.h"

#include <cstdio>
#include <iterator>
#include <utility>

#include "base/log.h"

namespace assas::transport {
namespace {

// How long disconnect() waits for the reports of purged records, which librdkafka delivers at
// once: a bound, not a delay.
constexpr int kPurgeWaitMs = 1000;

Status delivery_error(uint64_t seq, rd_kafka_resp_err_t err) {
  return unavailable("Kafka did not store a record of batch " + std::to_string(seq) + ": " +
                     rd_kafka_err2name(err) + " (" + rd_kafka_err2str(err) + ")");
}

}  // namespace

KafkaClient::KafkaClient(const KafkaOutputOptions& options, KafkaProperties properties,
                         KafkaTemplate key)
    : options_(options), properties_(std::move(properties)), key_(std::move(key)) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(options_.stream_id));
  stream_hex_ = hex;
}

KafkaClient::~KafkaClient() {
  disconnect();
}

Status KafkaClient::connect() {
  Result<rd_kafka_conf_t*> made = make_kafka_conf(properties_);
  if (!made.is_ok()) {
    return made.status();
  }
  rd_kafka_conf_t* conf = *made;
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_dr_msg_cb(conf, &KafkaClient::on_delivery);
  rd_kafka_conf_set_error_cb(conf, &KafkaClient::on_error);
  rd_kafka_conf_set_log_cb(conf, &KafkaClient::on_log);
  char errstr[512];
  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (rk_ == nullptr) {
    rd_kafka_conf_destroy(conf);  // still ours when rd_kafka_new fails
    return invalid_argument(std::string("cannot make a Kafka producer: ") + errstr);
  }
  closing_ = false;
  fatal_.clear();
  topic_ = rd_kafka_topic_new(rk_, options_.topic.c_str(), nullptr);
  if (topic_ == nullptr) {
    return invalid_argument("topic '" + options_.topic +
                            "': " + rd_kafka_err2str(rd_kafka_last_error()));
  }
  return check_topic();
}

// The topic must exist with partitions: a typo would otherwise only show as records timing out.
Status KafkaClient::check_topic() {
  const rd_kafka_metadata_t* metadata = nullptr;
  auto timeout = static_cast<int>(options_.connect_timeout.count());
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk_, 0, topic_, &metadata, timeout);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return unavailable("cannot read the Kafka cluster's metadata within connect_timeout (" +
                       std::to_string(timeout) + " ms): " + rd_kafka_err2str(err));
  }
  Status status = Status::ok();
  if (metadata->topic_cnt != 1) {
    status = unavailable("the Kafka cluster did not describe topic '" + options_.topic + "'");
  } else if (metadata->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
    status = not_found("topic '" + options_.topic +
                       "' does not exist on the Kafka cluster; create it (replication factor 3, "
                       "min.insync.replicas 2: docs/outputs/kafka.md) or fix topic:");
  } else if (metadata->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    status =
        unavailable("topic '" + options_.topic + "': " + rd_kafka_err2str(metadata->topics[0].err));
  } else if (metadata->topics[0].partition_cnt <= 0) {
    status = unavailable("topic '" + options_.topic + "' has no partitions");
  }
  rd_kafka_metadata_destroy(metadata);
  return status;
}

size_t KafkaClient::max_event_bytes() const {
  // The key (an agent id, host or collector name: short), the four assas-* headers and the
  // record's own framing take far less than this.
  constexpr uint64_t kRecordOverhead = 1024;
  uint64_t max = options_.max_message_bytes;
  return static_cast<size_t>(max > 2 * kRecordOverhead ? max - kRecordOverhead : max / 2);
}

Status KafkaClient::publish(const EncodedBatch& batch, PublishDone done) {
  if (rk_ == nullptr) {
    return unavailable("no Kafka producer");
  }
  if (!fatal_.empty()) {
    return unavailable("librdkafka's producer failed for good (" + fatal_ +
                       "); a new one takes over");
  }
  uint64_t id = next_pending_++;
  Pending& pending = pending_[id];
  pending.done = std::move(done);
  pending.seq = batch.seq;
  pending.publishing = true;
  Status status = Status::ok();
  for (size_t i = 0; i < batch.events.size() && !pending.finished; ++i) {
    rd_kafka_resp_err_t err = produce(batch, i, id);
    if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
      // Larger than max_message_size: Kafka would refuse it every time, so it would block every
      // batch behind it forever; it is dropped, loudly.
      ASSAS_LOG(kError, "event larger than max_message_size; dropped from the Kafka output",
                log::kv("output", options_.name), log::kv("seq", batch.seq),
                log::kv("index", static_cast<uint64_t>(i)),
                log::kv("bytes", static_cast<uint64_t>(batch.events[i].json.size())));
      continue;
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      status = delivery_error(batch.seq, err);
      break;
    }
  }
  pending.publishing = false;
  if (!status.is_ok()) {
    pending.finished = true;  // BrokerOutput reports the error returned
  } else if (!pending.finished && pending.unreported == 0) {
    pending.finished = true;  // every record reported while producing, or none to produce
    pending.done(Status::ok());
  }
  if (pending.finished && pending.unreported == 0) {
    pending_.erase(id);
  }
  return status;
}

rd_kafka_resp_err_t KafkaClient::produce(const EncodedBatch& batch, size_t index, uint64_t id) {
  const EncodedEvent& event = batch.events[index];
  key_.expand(event, options_.agent_id, key_buffer_);
  std::string seq = std::to_string(batch.seq);
  std::string position = std::to_string(index);
  auto deadline =
      std::chrono::steady_clock::now() +
      (options_.ack_timeout.count() > 0 ? options_.ack_timeout : options_.delivery_timeout);
  auto vu = [](rd_kafka_vtype_t type) {
    rd_kafka_vu_t v{};
    v.vtype = type;
    return v;
  };
  auto header = [&](const char* name, std::string_view value) {
    rd_kafka_vu_t v = vu(RD_KAFKA_VTYPE_HEADER);
    v.u.header = {name, value.data(), static_cast<ssize_t>(value.size())};
    return v;
  };
  // The value, key and headers are copied (MSG_F_COPY, and librdkafka always copies headers given
  // one by one), as batch is reused after publish() returns.
  rd_kafka_vu_t fields[9] = {vu(RD_KAFKA_VTYPE_RKT),
                             vu(RD_KAFKA_VTYPE_MSGFLAGS),
                             vu(RD_KAFKA_VTYPE_VALUE),
                             vu(RD_KAFKA_VTYPE_KEY),
                             vu(RD_KAFKA_VTYPE_OPAQUE),
                             header("assas-agent", options_.agent_id),
                             header("assas-stream", stream_hex_),
                             header("assas-seq", seq),
                             header("assas-index", position)};
  fields[0].u.rkt = topic_;
  fields[1].u.i = RD_KAFKA_MSG_F_COPY;
  fields[2].u.mem = {const_cast<char*>(event.json.data()), event.json.size()};
  fields[3].u.mem = {key_buffer_.data(), key_buffer_.size()};
  fields[4].u.ptr = reinterpret_cast<void*>(static_cast<uintptr_t>(id));
  for (;;) {
    rd_kafka_error_t* error = rd_kafka_produceva(rk_, fields, std::size(fields));
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (error != nullptr) {
      err = rd_kafka_error_code(error);
      rd_kafka_error_destroy(error);
    }
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++pending_[id].unreported;
      bytes_sent_ += event.json.size() + key_buffer_.size();
      return err;
    }
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || std::chrono::steady_clock::now() >= deadline) {
      return err;
    }
    // librdkafka's queue is full (its bound keeps memory flat): serving the delivery reports
    // frees room.
    rd_kafka_poll(rk_, 10);
    if (pending_[id].finished) {
      return RD_KAFKA_RESP_ERR_NO_ERROR;  // a record of this batch failed meanwhile
    }
  }
}

void KafkaClient::on_delivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* message, void* opaque) {
  auto* self = static_cast<KafkaClient*>(opaque);
  auto id = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(message->_private));
  auto it = self->pending_.find(id);
  if (it == self->pending_.end()) {
    return;
  }
  Pending& pending = it->second;
  --pending.unreported;
  if (!pending.finished && !self->closing_) {
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      pending.finished = true;
      pending.done(delivery_error(pending.seq, message->err));
    } else if (pending.unreported == 0 && !pending.publishing) {
      pending.finished = true;
      pending.done(Status::ok());
    }
  }
  if (pending.unreported == 0 && (pending.finished || self->closing_) && !pending.publishing) {
    self->pending_.erase(it);
  }
}

void KafkaClient::on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaClient*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char text[512];
    rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(rk, text, sizeof text);
    self->fatal_ = std::string(rd_kafka_err2name(fatal)) + ": " + text;
    ASSAS_LOG(kError, "librdkafka's producer failed for good; starting a new one",
              log::kv("output", self->options_.name), log::kv("error", self->fatal_));
    return;
  }
  ASSAS_LOG(kWarn, "Kafka client error", log::kv("output", self->options_.name),
            log::kv("error", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err))),
            log::kv("reason", reason));
}

// librdkafka's own log lines (its threads), at syslog levels; they never hold the SASL password.
// A failed connection (facility FAIL) comes through on_error too, as a warning: here it is info.
void KafkaClient::on_log(const rd_kafka_t* /*rk*/, int level, const char* facility,
                         const char* text) {
  bool reported = std::string_view(facility) == "FAIL";
  if (level <= 4 && !reported) {
    ASSAS_LOG(kWarn, "librdkafka", log::kv("facility", facility), log::kv("message", text));
  } else if (level <= 6) {
    ASSAS_LOG(kInfo, "librdkafka", log::kv("facility", facility), log::kv("message", text));
  } else {
    ASSAS_LOG(kDebug, "librdkafka", log::kv("facility", facility), log::kv("message", text));
  }
}

void KafkaClient::poll(std::chrono::milliseconds timeout) {
  if (rk_ != nullptr) {
    rd_kafka_poll(rk_, static_cast<int>(timeout.count()));
  }
}

void KafkaClient::disconnect() {
  if (rk_ != nullptr) {
    // Outcomes of what was in flight are ignored from here (closing_): the purged records report
    // at once, and the rest go with the producer.
    closing_ = true;
    rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(rk_, kPurgeWaitMs);
    if (topic_ != nullptr) {
      rd_kafka_topic_destroy(topic_);
      topic_ = nullptr;
    }
    rd_kafka_destroy(rk_);
    rk_ = nullptr;
  }
  pending_.clear();
  closing_ = false;
}

}  // namespace assas::transport
