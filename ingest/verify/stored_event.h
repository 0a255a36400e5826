#pragma once

// One stored event line (docs/ingest.md, "Output files") decoded back into the event that
// transport::append_event_json wrote, so that `assas-ingest verify` can recompute its canonical
// encoding exactly as the receiver hashed it (docs/integrity.md). Strict where the hash depends
// on it: the keys in their order (ts, agent, host, collector, source, offset, message, fields),
// each string value as itself or as "<key>_base64", `ts` in the one shape the writer uses,
// `offset` an unsigned integer, the fields decoded by the rule of docs/ingest.md, "Fields". Any
// other line is an error saying what is wrong, never a guess.
//
// Not thread-safe; reusable (decode() replaces the previous event).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "ingest/verify/json_reader.h"
#include "transport/protocol/chain.h"

namespace assas::ingest {

// "2026-11-24T09:25:27.123456789Z", as transport::append_rfc3339_ns writes it, back to
// nanoseconds since the Unix epoch, exactly (before 1970 too). False unless text has that shape,
// names a real date and time (no leap second: the writer never writes one) and fits in int64.
bool parse_rfc3339_ns(std::string_view text, int64_t& time_ns);

// Up to max_bytes of bytes for an error message: printable ASCII as is, anything else as \xNN,
// so that a hostile line cannot forge output lines of its own.
std::string printable(std::string_view bytes, size_t max_bytes = 40);

class StoredEvent {
 public:
  // Decodes one line (without its newline). kCorruption says what is wrong.
  Status decode(std::string_view line);

  // The decoded event; points into this object, valid until the next decode(). Every field is in
  // fields_first (the canonical encoding is the same however they are split).
  transport::CanonicalEventView view() const;

 private:
  Status decode_fields(const JsonValue& fields);

  JsonValue root_;
  int64_t time_ns_ = 0;
  std::string host_;
  std::string collector_;
  std::string source_;
  uint64_t offset_ = 0;
  std::string message_;
  std::vector<std::pair<std::string, std::string>> fields_;
  std::vector<transport::FieldView> field_views_;
};

}  // namespace assas::ingest
