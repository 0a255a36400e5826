#pragma once

// Writes one event as one JSON object on one line: what assas-ingest stores and what the NATS and
// Kafka outputs publish, for SOC tooling. Keys, in order:
//   ts, agent, host, collector, source, offset, message, fields
// Any input bytes survive, reversibly: a value that is valid UTF-8 becomes a JSON string
// (control characters, quotes, backslashes, DEL, U+2028 and U+2029 escaped, so a line can never be
// broken or a second event forged); a value that is not valid UTF-8 is written instead under
// "<key>_base64" as standard base64 of its raw bytes. docs/ingest.md documents the rule.
//
// Hot path: appends to a caller-owned string, no allocation of its own.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "transport/protocol/batch_codec.h"

namespace assas::transport {

// Strict: refuses overlong forms, surrogates, code points above U+10FFFF and truncated sequences.
bool is_valid_utf8(std::string_view bytes);

// Appends "\"key\":" then the value as a JSON string, or "\"key_base64\":\"...\"" if the value is
// not valid UTF-8. key must be plain ASCII.
void append_json_field(std::string& out, std::string_view key, std::string_view value);

// "2026-11-24T09:25:27.123456789Z"
void append_rfc3339_ns(std::string& out, int64_t time_ns);

// One event as a JSON line (with its trailing newline).
void append_event_json(std::string& out, std::string_view agent, std::string_view host,
                       const DecodedEvent& event);

}  // namespace assas::transport
