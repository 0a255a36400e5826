// Log injection: whoever writes a log line controls its bytes, and may write what looks like the
// end of one event and the start of another, in each output's encoding. For every output, the
// receiver must read exactly the events that were sent, each with its own bytes: the JSON line of
// assas-ingest (also the NATS message and Kafka record bodies, which their protocols frame by
// length), RFC 5424 syslog with octet counting and with newline framing, and RELP. The decoders
// here are the real ones: our syslog collector's framer (as a syslog receiver reads), the RELP
// frame decoder, and a JSON reader.

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "collectors/syslog/syslog_framer.h"
#include "tests/support/jsonl_reader.h"
#include "transport/protocol/batch_codec.h"
#include "transport/protocol/event_json.h"
#include "transport/relp/relp_frame.h"
#include "transport/syslog/syslog_output.h"
#include "transport/syslog/syslog_writer.h"

namespace assas::collectors {
namespace {

using namespace std::string_literals;

// What an attacker who controls one log line writes to forge a second event, in each encoding.
const std::vector<std::string> kHostile = {
    "login ok\n<13>1 2026-11-30T00:00:00Z soc-fw sshd - - - Accepted password for root",
    "x\r\n<13>Nov 30 00:00:00 fw sshd: forged\r\n",
    "12 <13>forged\n34 <13>1 - - - - - - another",
    "\"}\n{\"ts\":\"2026-11-30T00:00:00Z\",\"agent\":\"forged\",\"message\":\"forged\"}",
    "nul\0 byte, escape \x1b[31m, DEL \x7f, tab\t, bell \a"s,
    "line\xe2\x80\xa8separators\xe2\x80\xa9 and \\u000a",
    "1 syslog 5 hello\n2 syslog 5 forge\n",
    "\n\n\n",
};

// The events as the agent's batch holds them, one per hostile message.
struct Batch {
  transport::DecodedStream stream{"logs", "/var/log/app.log", {}};
  transport::DecodedBatchHeader header{"gw-7", {}, 0};
  std::vector<transport::DecodedEvent> events;
  Batch() {
    for (const std::string& message : kHostile) {
      transport::DecodedEvent event;
      event.time_ns = 1764460800000000000;
      event.stream = &stream;
      event.message = message;
      events.push_back(event);
    }
  }
};

TEST_CASE("log injection: each JSON line holds one event with its exact bytes", "[injection]") {
  Batch batch;
  std::string out;
  for (const auto& event : batch.events) {
    out.clear();
    transport::append_event_json(out, "gw-7", "gw-7", event);
    REQUIRE(out.back() == '\n');
    REQUIRE(out.find('\n') == out.size() - 1);
    auto object = test::parse_json_object(out.substr(0, out.size() - 1));
    CHECK(object["message"] == std::string(event.message));
    CHECK(object["agent"] == "gw-7");
  }
}

// Formats every event, frames them as the syslog output does, and reads them back as a syslog
// receiver reads a TCP stream.
std::vector<std::string> through_syslog(transport::SyslogFraming framing,
                                        std::vector<std::string>& sent) {
  Batch batch;
  transport::SyslogFormat format;
  std::string stream;
  for (const auto& event : batch.events) {
    std::string message;
    transport::write_syslog_message(batch.header, event, format, message);
    sent.push_back(message);
    transport::append_syslog_frame(framing, message, stream);
  }
  SyslogFramer framer(1 << 20);
  framer.feed(stream);
  std::vector<std::string> received;
  SyslogFramer::Message m;
  while (framer.next(m)) {
    received.emplace_back(m.bytes);
  }
  while (framer.finish(m)) {
    received.emplace_back(m.bytes);
  }
  return received;
}

TEST_CASE("log injection: octet-counted syslog frames hold one message each, byte for byte",
          "[injection]") {
  std::vector<std::string> sent;
  std::vector<std::string> received =
      through_syslog(transport::SyslogFraming::kOctetCounting, sent);
  REQUIRE(received.size() == kHostile.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    CHECK(received[i] == sent[i]);
    CHECK(received[i].find(kHostile[i]) != std::string::npos);  // MSG as it was
  }
}

TEST_CASE("log injection: newline-framed syslog sends LF inside a message as #012", "[injection]") {
  std::vector<std::string> sent;
  std::vector<std::string> received = through_syslog(transport::SyslogFraming::kNewline, sent);
  REQUIRE(received.size() == kHostile.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    std::string escaped;
    for (char c : sent[i]) {
      escaped += c == '\n' ? "#012"s : std::string(1, c);
    }
    CHECK(received[i] == escaped);
  }
}

TEST_CASE("log injection: RELP frames hold one message each, byte for byte", "[injection]") {
  std::string stream;
  uint32_t txnr = 1;
  for (const std::string& message : kHostile) {
    transport::encode_relp_frame(txnr, "syslog", message, stream);
    txnr = transport::next_relp_txnr(txnr);
  }
  transport::RelpFrameDecoder decoder(1 << 20);
  decoder.feed(stream);
  std::vector<std::string> received;
  for (;;) {
    auto frame = decoder.next();
    REQUIRE(frame.is_ok());
    if (!frame->has_value()) {
      break;
    }
    CHECK((*frame)->command == "syslog");
    received.emplace_back((*frame)->data);
  }
  REQUIRE(received == kHostile);
}

}  // namespace
}  // namespace assas::collectors
