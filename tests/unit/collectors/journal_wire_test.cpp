// The journal reader's frames (journal_wire.h) both ways, the reader's argv both ways, the cursor
// parts the gap count needs, and the event an entry becomes.

#include "collectors/journal/journal_wire.h"

#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "collectors/journal/journal_cursor.h"
#include "collectors/journal/journal_event_builder.h"
#include "collectors/journal/journal_reader_options.h"

namespace assas::collectors {
namespace {

JournalEntry sample_entry() {
  JournalEntry e;
  e.cursor =
      "s=6c2b7e1d9a3f4e5b8c7d6e5f4a3b2c1d;i=2a;b=0123456789abcdef0123456789abcdef;m=1;t=5;x=9";
  e.realtime_usec = 1'796'074'759'123'456ULL;
  e.seqnum = 42;
  e.fields = {{"MESSAGE", std::string("bin\0ary \xff\xfe\n", 11), false},
              {"_PID", "1234", false},
              {"SYSLOG_IDENTIFIER", "sshd", true}};
  return e;
}

std::vector<JournalFrame> decode_all(JournalWireDecoder& decoder) {
  std::vector<JournalFrame> frames;
  for (;;) {
    Result<std::optional<JournalFrame>> frame = decoder.next();
    REQUIRE(frame.is_ok());
    if (!frame->has_value()) {
      return frames;
    }
    frames.push_back(std::move(**frame));
  }
}

}  // namespace

TEST_CASE("journal frames decode to what was encoded, split at every byte", "[journal][wire]") {
  std::string bytes;
  append_entry_frame(bytes, sample_entry());
  append_gap_frame(bytes, JournalGap{7, "vacuumed"});
  append_gap_frame(bytes, JournalGap{std::nullopt, "another seqnum id"});
  append_error_frame(bytes, "cannot open the journal directory '/nope'");
  for (size_t split = 0; split <= bytes.size(); ++split) {
    JournalWireDecoder decoder;
    decoder.append(std::string_view(bytes).substr(0, split));
    std::vector<JournalFrame> frames = decode_all(decoder);
    decoder.append(std::string_view(bytes).substr(split));
    std::vector<JournalFrame> rest = decode_all(decoder);
    frames.insert(frames.end(), rest.begin(), rest.end());
    REQUIRE(frames.size() == 4);
    REQUIRE(frames[0].kind == JournalFrameKind::kEntry);
    REQUIRE(frames[0].entry == sample_entry());
    REQUIRE(frames[1].kind == JournalFrameKind::kGap);
    REQUIRE(frames[1].gap == JournalGap{7, "vacuumed"});
    REQUIRE(frames[2].gap == JournalGap{std::nullopt, "another seqnum id"});
    REQUIRE(frames[3].kind == JournalFrameKind::kError);
    REQUIRE(frames[3].error == "cannot open the journal directory '/nope'");
    REQUIRE(decoder.buffered() == 0);
    REQUIRE_FALSE(decoder.has_frame());
  }
}

TEST_CASE("a journal frame length above the maximum is refused before any allocation",
          "[journal][wire]") {
  JournalWireDecoder decoder(1024);
  std::string bytes("\x01\x04\x00\x00", 4);  // 1025: one more than the maximum, no body follows
  decoder.append(bytes);
  REQUIRE(decoder.has_frame());
  Result<std::optional<JournalFrame>> frame = decoder.next();
  REQUIRE_FALSE(frame.is_ok());
  REQUIRE(frame.status().code() == StatusCode::kCorruption);
  REQUIRE(decoder.buffered() == 4);  // nothing was reserved for the body
}

TEST_CASE("a journal frame with a zero length or an unknown kind is corruption",
          "[journal][wire]") {
  JournalWireDecoder zero;
  zero.append(std::string("\0\0\0\0", 4));
  REQUIRE_FALSE(zero.next().is_ok());
  JournalWireDecoder unknown;
  unknown.append(std::string("\x01\0\0\0\x09", 5));
  REQUIRE_FALSE(unknown.next().is_ok());
}

TEST_CASE("a journal entry frame whose field count exceeds its bytes is corruption",
          "[journal][wire]") {
  std::string bytes;
  JournalEntry e;
  e.cursor = "c";
  append_entry_frame(bytes, e);
  bytes.back() = '\x7f';  // the field count: 127 fields in no bytes
  JournalWireDecoder decoder;
  decoder.append(bytes);
  REQUIRE_FALSE(decoder.next().is_ok());
}

TEST_CASE("a cut journal frame is not a frame until its last byte arrives", "[journal][wire]") {
  std::string bytes;
  append_error_frame(bytes, "x");
  JournalWireDecoder decoder;
  decoder.append(bytes.substr(0, bytes.size() - 1));
  REQUIRE_FALSE(decoder.has_frame());
  Result<std::optional<JournalFrame>> none = decoder.next();
  REQUIRE(none.is_ok());
  REQUIRE_FALSE(none->has_value());
  decoder.append(bytes.substr(bytes.size() - 1));
  REQUIRE(decoder.has_frame());
}

TEST_CASE("the journal reader's arguments parse back to its options", "[journal]") {
  JournalReaderOptions o;
  o.parent = 4321;
  o.directory = "/var/log/journal/remote";
  o.match_groups = {{"PRIORITY=0", "PRIORITY=1", "SYSLOG_FACILITY=10"},
                    {"_SYSTEMD_UNIT=sshd.service"}};
  o.start = JournalStart::kAfterCursor;
  o.cursor = "s=ab;i=2a;b=cd;m=1;t=5;x=9";
  o.fields = {"_PID", "_COMM"};
  o.all_fields = true;
  o.max_field_bytes = 4096;
  o.log_level = "debug";
  Result<JournalReaderOptions> back = parse_journal_reader_args(journal_reader_args(o));
  REQUIRE(back.is_ok());
  REQUIRE(*back == o);

  JournalReaderOptions tail;
  tail.parent = 1;
  Result<JournalReaderOptions> tail_back = parse_journal_reader_args(journal_reader_args(tail));
  REQUIRE(tail_back.is_ok());
  REQUIRE(*tail_back == tail);
}

TEST_CASE("bad journal reader arguments are refused", "[journal]") {
  REQUIRE_FALSE(parse_journal_reader_args({"--start"}).is_ok());
  REQUIRE_FALSE(parse_journal_reader_args({"--start", "middle"}).is_ok());
  REQUIRE_FALSE(parse_journal_reader_args({"--start", "after-cursor"}).is_ok());
  REQUIRE_FALSE(parse_journal_reader_args({"--max-field-bytes", "0"}).is_ok());
  REQUIRE_FALSE(parse_journal_reader_args({"--bogus", "1"}).is_ok());
}

TEST_CASE("a journal cursor gives its seqnum id and seqnum, and the gap is counted from them",
          "[journal]") {
  std::optional<JournalSeqnum> saved = parse_journal_cursor("s=6c2b;i=2a;b=0123;m=1f;t=5e4;x=9c8f");
  REQUIRE(saved);
  REQUIRE(saved->seqnum_id == "6c2b");
  REQUIRE(saved->seqnum == 42);
  REQUIRE_FALSE(parse_journal_cursor("i=2a;b=0123"));
  REQUIRE_FALSE(parse_journal_cursor("s=6c2b;i=zz"));
  REQUIRE_FALSE(parse_journal_cursor(""));
  REQUIRE(journal_entries_lost(*saved, JournalSeqnum{"6c2b", 43}) == 0);
  REQUIRE(journal_entries_lost(*saved, JournalSeqnum{"6c2b", 100}) == 57);
  REQUIRE(journal_entries_lost(*saved, JournalSeqnum{"6c2b", 10}) == 0);
  REQUIRE_FALSE(journal_entries_lost(*saved, JournalSeqnum{"ffff", 100}));
}

TEST_CASE("a journal entry becomes an event with its message bytes and mapped fields",
          "[journal]") {
  JournalEventBuilder builder;
  JournalEntry entry = sample_entry();
  const agent::Event& event = builder.build(entry, 77);
  REQUIRE(event.message == std::string("bin\0ary \xff\xfe\n", 11));
  REQUIRE(event.time_ns == 77);
  REQUIRE(event.offset == 42);
  REQUIRE(event.next.token == entry.cursor);
  REQUIRE(event.next.offset == 0);
  std::map<std::string, std::string> fields;
  for (const auto& [name, value] : event.fields) {
    fields[std::string(name)] = std::string(value);
  }
  REQUIRE(fields ==
          std::map<std::string, std::string>{{"_PID", "1234"},
                                             {"SYSLOG_IDENTIFIER", "sshd"},
                                             {"origin_time", "2026-11-30T21:39:19.123456Z"},
                                             {"truncated", "SYSLOG_IDENTIFIER"}});
}

TEST_CASE("a journal entry without MESSAGE has an empty message", "[journal]") {
  JournalEventBuilder builder;
  JournalEntry entry;
  entry.cursor = "c";
  entry.fields = {{"_PID", "1", false}};
  const agent::Event& event = builder.build(entry, 1);
  REQUIRE(event.message.empty());
  REQUIRE(event.fields.size() == 1);
}

TEST_CASE("a journal entry with two MESSAGE values keeps the second as a field", "[journal]") {
  // Found by the journal_fields fuzz target: the second value used to replace the first.
  JournalEventBuilder builder;
  JournalEntry entry;
  entry.cursor = "c";
  entry.fields = {{"MESSAGE", "first", false}, {"_PID", "1", false}, {"MESSAGE", "second", false}};
  const agent::Event& event = builder.build(entry, 1);
  REQUIRE(event.message == "first");
  REQUIRE(event.fields.size() == 2);
  REQUIRE(event.fields[1] == agent::FieldView("MESSAGE", "second"));
}

TEST_CASE("journal times are RFC 3339 UTC with microseconds", "[journal]") {
  REQUIRE(format_journal_time(0) == "1970-01-01T00:00:00.000000Z");
  REQUIRE(format_journal_time(1'000'000ULL * 86400 * 365 + 5) == "1971-01-01T00:00:00.000005Z");
}

}  // namespace assas::collectors
