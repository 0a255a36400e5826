// The journal reader child's stream (collectors/journal/journal_wire.h) and the mapping of an
// entry to an event (journal_event_builder.h): the entries' field names and values are whatever
// was logged, and a broken child must not make the agent allocate without bound. The input is a
// limit choice, split points, then the stream. Properties: any split gives the same frames;
// has_frame() says whether next() has a frame or an error; a frame re-encodes to one that decodes
// to the same; and the event holds exactly the entry: MESSAGE as the message, every other field
// in order, origin_time when the entry has a time, the names of cut values, the seqnum as offset
// and the cursor as position.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/journal/journal_event_builder.h"
#include "collectors/journal/journal_wire.h"
#include "tests/fuzz/fuzz_support.h"

namespace co = assas::collectors;

namespace {

// A frame, re-encoded: the canonical form to compare.
std::string encode(const co::JournalFrame& frame) {
  std::string out;
  switch (frame.kind) {
    case co::JournalFrameKind::kEntry:
      co::append_entry_frame(out, frame.entry);
      break;
    case co::JournalFrameKind::kGap:
      co::append_gap_frame(out, frame.gap);
      break;
    case co::JournalFrameKind::kError:
      co::append_error_frame(out, frame.error);
      break;
  }
  return out;
}

void check_event(const co::JournalEntry& entry) {
  static co::JournalEventBuilder builder;  // reused, as the collector reuses it
  const assas::agent::Event& event = builder.build(entry, 42);
  ASSAS_FUZZ_CHECK(event.offset == entry.seqnum);
  ASSAS_FUZZ_CHECK(event.next.token == entry.cursor);
  ASSAS_FUZZ_CHECK(event.time_ns == 42);
  // Walk the entry's fields and the event's side by side.
  size_t at = 0;
  std::string truncated;
  bool message_seen = false;
  for (const co::JournalField& field : entry.fields) {
    if (field.truncated) {
      truncated += truncated.empty() ? "" : ",";
      truncated += field.name;
    }
    if (field.name == "MESSAGE" && !message_seen) {
      ASSAS_FUZZ_CHECK(event.message == field.value);
      message_seen = true;
      continue;
    }
    // Every other value is kept, a second MESSAGE included: nothing logged is lost.
    ASSAS_FUZZ_CHECK(at < event.fields.size());
    ASSAS_FUZZ_CHECK(event.fields[at].first == field.name);
    ASSAS_FUZZ_CHECK(event.fields[at].second == field.value);
    ++at;
  }
  if (!message_seen) {
    ASSAS_FUZZ_CHECK(event.message.empty());
  }
  if (entry.realtime_usec != 0) {
    ASSAS_FUZZ_CHECK(at < event.fields.size() && event.fields[at].first == "origin_time");
    std::string_view time = event.fields[at].second;
    // RFC 3339 with microseconds, for every time up to the year 9999.
    if (entry.realtime_usec < 253402300800000000ULL) {
      ASSAS_FUZZ_CHECK(time.size() == 27 && time[4] == '-' && time[10] == 'T' && time[19] == '.' &&
                       time[26] == 'Z');
    }
    ++at;
  }
  if (!truncated.empty()) {
    ASSAS_FUZZ_CHECK(at < event.fields.size() && event.fields[at].first == "truncated" &&
                     event.fields[at].second == truncated);
    ++at;
  }
  ASSAS_FUZZ_CHECK(at == event.fields.size());
}

struct Decoded {
  std::vector<std::string> frames;
  bool failed = false;
};

bool drain(co::JournalWireDecoder& decoder, uint32_t limit, Decoded& out) {
  while (true) {
    bool has = decoder.has_frame();
    assas::Result<std::optional<co::JournalFrame>> next = decoder.next();
    if (!next.is_ok()) {
      ASSAS_FUZZ_CHECK(has);
      ASSAS_FUZZ_CHECK(next.status().code() == assas::StatusCode::kCorruption);
      out.failed = true;
      return false;
    }
    ASSAS_FUZZ_CHECK(has == next->has_value());
    if (!next->has_value()) {
      return true;
    }
    const co::JournalFrame& frame = **next;
    std::string encoded = encode(frame);
    ASSAS_FUZZ_CHECK(encoded.size() - 4 <= limit);
    co::JournalWireDecoder round(limit);
    round.append(encoded);
    assas::Result<std::optional<co::JournalFrame>> back = round.next();
    ASSAS_FUZZ_CHECK(back.is_ok() && back->has_value());
    ASSAS_FUZZ_CHECK((*back)->kind == frame.kind);
    ASSAS_FUZZ_CHECK(encode(**back) == encoded);
    ASSAS_FUZZ_CHECK(round.buffered() == 0);
    if (frame.kind == co::JournalFrameKind::kEntry) {
      ASSAS_FUZZ_CHECK((*back)->entry == frame.entry);
      check_event(frame.entry);
    } else if (frame.kind == co::JournalFrameKind::kGap) {
      ASSAS_FUZZ_CHECK((*back)->gap == frame.gap);
    } else {
      ASSAS_FUZZ_CHECK((*back)->error == frame.error);
    }
    out.frames.push_back(std::move(encoded));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  assas::fuzz::FuzzInput in(data, size);
  // Small limits reach "length above the maximum" with small inputs.
  uint32_t limit = in.byte() < 128 ? co::kMaxJournalFrameBytes : 1 + in.u16();
  std::string_view splits = in.sized(32);
  std::string_view stream = in.rest();

  Decoded whole;
  co::JournalWireDecoder whole_decoder(limit);
  whole_decoder.append(stream);
  drain(whole_decoder, limit, whole);

  Decoded pieces;
  co::JournalWireDecoder piece_decoder(limit);
  assas::fuzz::feed_in_pieces(stream, splits, [&](std::string_view piece, size_t) {
    piece_decoder.append(piece);
    return drain(piece_decoder, limit, pieces);
  });
  ASSAS_FUZZ_CHECK(whole.frames == pieces.frames);
  ASSAS_FUZZ_CHECK(whole.failed == pieces.failed);
  return 0;
}
