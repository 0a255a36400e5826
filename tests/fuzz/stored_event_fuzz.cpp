// Stored event lines (ingest/verify/stored_event.h): `assas-ingest verify` decodes every line of
// a SOC's events files back into the canonical encoding the receiver hashed, and the lines may
// have been edited by anyone. The input is one line. Properties: a line that decodes has a
// canonical encoding, and writing that event again as assas-ingest does (append_event_json) gives
// a line that decodes to the same canonical encoding: what verify hashes depends on the event,
// never on how its JSON happens to be spelled.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/verify/stored_event.h"
#include "tests/fuzz/fuzz_support.h"
#include "transport/protocol/batch_codec.h"
#include "transport/protocol/chain.h"
#include "transport/protocol/event_json.h"

namespace tr = assas::transport;

namespace {

std::string canonical_of(const tr::CanonicalEventView& view) {
  std::string out;
  tr::append_canonical_event(out, view);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  assas::ingest::StoredEvent event;
  assas::Status decoded = event.decode(line);
  if (!decoded.is_ok()) {
    ASSAS_FUZZ_CHECK(decoded.code() == assas::StatusCode::kCorruption);
    return 0;
  }
  const tr::CanonicalEventView view = event.view();
  const std::string canonical = canonical_of(view);

  tr::DecodedStream stream;
  stream.collector = view.collector;
  stream.source = view.source;
  stream.fields.assign(view.fields_first.begin(), view.fields_first.end());
  stream.fields.insert(stream.fields.end(), view.fields_then.begin(), view.fields_then.end());
  tr::DecodedEvent again;
  again.time_ns = view.time_ns;
  again.stream = &stream;
  again.offset = view.offset;
  again.message = view.message;
  std::string json;
  tr::append_event_json(json, "fuzz-agent", view.host, again);
  ASSAS_FUZZ_CHECK(!json.empty() && json.back() == '\n');
  json.pop_back();

  assas::ingest::StoredEvent reread;
  ASSAS_FUZZ_CHECK(reread.decode(json).is_ok());
  ASSAS_FUZZ_CHECK(canonical_of(reread.view()) == canonical);
  return 0;
}
