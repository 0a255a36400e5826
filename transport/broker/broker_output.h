#pragma once

// What the outputs into a distributed log engine (NATS JetStream, Kafka) share: the engine's own
// client library does the networking, on threads of its own and with calls that may block, so the
// library is driven from a publisher thread that this output owns, never from the loop.
//
//   loop thread                          publisher thread
//   send(batch) ── Publish(batch, gen) ─▶ encode (decompress, JSON per event), client.publish()
//   on_connected / on_acked / on_        ◀─ Connected / ConnectFailed / Published(seq, status)
//   disconnected                            (the library's callbacks, from any thread)
//
// The guarantee is the other outputs': a batch is acknowledged to the shipper only once the
// engine reported all of it durably stored, and in seq order. Any failed publish ends the
// session: everything unacknowledged is sent again after a reconnect (the shipper resends from the
// last acknowledged batch), which the engine de-duplicates by the message ids the client sets from
// (agent id, stream id, seq). `gen` numbers the sessions, so that the outcome of a publish from a
// session already given up is ignored.
//
// Backpressure: at most max_inflight_batches batches and max_inflight_bytes of their compressed
// payloads are unacknowledged at a time; the client bounds its library's own queue below that.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <uv.h>

#include "base/status.h"
#include "base/uv_util.h"
#include "transport/client/backoff.h"
#include "transport/client/session_output.h"
#include "transport/output.h"
#include "transport/protocol/compression.h"

namespace assas::transport {

// The settings of an output into an engine: SessionOptions' endpoints are the engine's servers
// (bootstrap brokers for Kafka), and its TLS, backoff, max_inflight and ack_timeout apply.
struct BrokerOptions : SessionOptions {
  BrokerOptions() { ack_timeout = std::chrono::milliseconds(60000); }
  uint32_t max_inflight_batches = 64;
  // Set by the agent, not the config: who we are, for the message ids and the JSON's "agent".
  std::string agent_id;
  uint64_t stream_id = 0;
};

// One event of a batch as the engine gets it: the JSON object that assas-ingest writes (one line,
// without its newline), and what a subject or key may be built from.
struct EncodedEvent {
  std::string_view json;
  std::string_view collector;
  std::string_view source;
  std::string_view host;  // the agent's host name, as in the JSON's "host"
};

// One batch, encoded on the publisher thread. The views point into raw and json.
struct EncodedBatch {
  uint64_t seq = 0;
  std::string raw;                   // the decompressed batch
  std::string json;                  // every event's JSON line, each ending in '\n'
  std::vector<EncodedEvent> events;  // in order; without those over max_event_bytes()
};

// The message id of a batch (index < 0) or of one of its events, unique per agent and stream:
// "<agent id>:<stream id, 16 hex digits>:<seq>[:<index>]". Engines de-duplicate by it.
std::string broker_message_id(std::string_view agent_id, uint64_t stream_id, uint64_t seq,
                              int64_t index = -1);

// Tells the output how one publish ended. Callable from any thread, exactly once.
using PublishDone = std::function<void(const Status&)>;

// The engine's client library, called on the publisher thread only (the PublishDone callbacks
// excepted).
class BrokerClient {
 public:
  virtual ~BrokerClient() = default;
  // Connects (may block up to the connect timeout). An error is retried after a backoff.
  virtual Status connect() = 0;
  // Publishes one batch; done runs once the engine durably stored all of it, or with the error
  // that ended the attempt. An error returned here counts as done with it. The client copies what
  // it needs: batch is reused once publish returns.
  virtual Status publish(const EncodedBatch& batch, PublishDone done) = 0;
  // Serves the library's callbacks, waiting up to timeout for one (Kafka's rd_kafka_poll). A
  // library that calls back on its own threads returns at once.
  virtual void poll(std::chrono::milliseconds /*timeout*/) {}
  virtual bool needs_polling() const { return false; }
  // The largest event (its JSON) the engine takes in one message, once connected. A larger one
  // would be refused at every resend and hold every batch behind it for good, so BrokerOutput
  // leaves it out, logs it with its seq and index, and counts it (events_too_large).
  virtual size_t max_event_bytes() const { return SIZE_MAX; }
  // Drops the connection; outcomes of what was in flight may still arrive, and are ignored. No
  // PublishDone runs once the client is destroyed.
  virtual void disconnect() = 0;
  // Bytes handed to the connection so far (resends too), for assas_output_bytes_sent_total.
  virtual uint64_t bytes_sent() const = 0;
};

class BrokerOutput final : public Output {
 public:
  // The client is made on the loop thread (so that --check sees its errors) and used on the
  // publisher thread only from then on.
  BrokerOutput(uv_loop_t* loop, BrokerOptions options, std::unique_ptr<BrokerClient> client);
  ~BrokerOutput() override;
  BrokerOutput(const BrokerOutput&) = delete;
  BrokerOutput& operator=(const BrokerOutput&) = delete;

  const std::string& name() const override { return options_.name; }
  Status start(OutputListener& listener) override;
  bool can_send() const override;
  void send(OutgoingBatch batch) override;
  OutputStats stats() const override;
  void certificate_files(std::vector<CertificateFile>& out) const override;
  void close(std::function<void()> on_closed) override;

 private:
  enum class State { kConnecting, kReady, kClosing, kClosed };
  struct Command {
    enum class Kind { kPublish, kReset, kStop } kind;
    uint64_t gen = 0;
    OutgoingBatch batch;
  };
  struct Event {
    enum class Kind { kConnected, kConnectFailed, kPublished, kStopped } kind;
    uint64_t gen = 0;
    uint64_t seq = 0;
    Status status;
  };
  struct Inflight {
    uint64_t seq = 0;
    uint64_t bytes = 0;
    bool done = false;
  };

  // Publisher thread.
  void run_publisher();
  // Sleeps for the next backoff delay; false if a stop came meanwhile.
  bool sleep_backoff(Backoff& backoff);
  Status encode(const OutgoingBatch& batch);
  void post(Event event);

  // Loop thread.
  static void on_events(uv_async_t* async) noexcept;
  static void on_watchdog(uv_timer_t* timer) noexcept;
  void handle(Event& event);
  void on_published(uint64_t seq, const Status& status);
  void fail(const Status& why);
  void command(Command command);
  void finish_close();

  uv_loop_t* loop_;
  BrokerOptions options_;
  OutputListener* listener_ = nullptr;
  std::function<void()> on_closed_;

  // Loop thread only.
  State state_ = State::kConnecting;
  uint64_t gen_ = 0;
  std::deque<Inflight> inflight_;
  uint64_t inflight_bytes_ = 0;
  OutputStats stats_;
  std::chrono::steady_clock::time_point last_progress_;
  uv_async_t events_async_{};
  uv_timer_t watchdog_{};
  HandleCloser closer_;
  bool handles_open_ = false;

  // Shared, under mutex_.
  std::mutex mutex_;
  std::condition_variable wake_publisher_;
  std::deque<Command> commands_;
  std::deque<Event> events_;
  std::atomic<uint64_t> bytes_sent_{0};
  std::atomic<uint64_t> events_too_large_{0};

  std::thread publisher_;
  // Publisher thread only (after the constructor).
  std::unique_ptr<BrokerClient> client_;
  Decompressor decompressor_;
  EncodedBatch encoded_;
};

}  // namespace assas::transport
