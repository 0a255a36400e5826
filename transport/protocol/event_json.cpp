#include "transport/protocol/event_json.h"

#include <charconv>

#include "base/base64.h"

namespace assas::transport {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr std::string_view kKeyBase64Prefix = "_key_base64_";

// What a byte needs inside a JSON string: 0 copy as is, 1 an escape, 2 the start (or a stray
// continuation) of a multi-byte UTF-8 sequence, to be validated. One table lookup per byte keeps
// the common printable-ASCII case to a load and a compare.
struct ByteClasses {
  unsigned char of[256] = {};
  constexpr ByteClasses() {
    for (int c = 0; c < 0x20; ++c) {
      of[c] = 1;
    }
    of[static_cast<unsigned char>('"')] = 1;
    of[static_cast<unsigned char>('\\')] = 1;
    of[0x7f] = 1;
    for (int c = 0x80; c < 0x100; ++c) {
      of[c] = 2;
    }
  }
};
constexpr ByteClasses kClass;

// Length of the valid UTF-8 sequence of two or more bytes at p, or 0 if there is none. Strict:
// overlong forms, UTF-16 surrogates, code points above U+10FFFF and truncated sequences are
// refused (RFC 3629, table 3-7 of the Unicode standard).
size_t utf8_sequence(const unsigned char* p, size_t left) {
  unsigned char c = p[0];
  auto cont = [&](size_t i) { return i < left && (p[i] & 0xc0) == 0x80; };
  if (c >= 0xc2 && c <= 0xdf) {
    return cont(1) ? 2 : 0;
  }
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(1) || !cont(2)) {
      return 0;
    }
    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0)) {
      return 0;  // overlong, or a surrogate
    }
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) {
      return 0;
    }
    if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)) {
      return 0;  // overlong, or above U+10FFFF
    }
    return 4;
  }
  return 0;  // 0x80..0xc1 (continuation or overlong lead) and 0xf5..0xff
}

void append_control_escape(std::string& out, unsigned char c) {
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default: {
      char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      out.append(u, 6);
    }
  }
}

// Appends value escaped for a JSON string. Returns false, with out possibly extended, at the
// first byte that is not valid UTF-8; the caller rolls back.
bool append_escaped_if_utf8(std::string& out, std::string_view value) {
  const auto* p = reinterpret_cast<const unsigned char*>(value.data());
  const size_t n = value.size();
  size_t run = 0;  // start of the pending run of bytes copied as they are
  size_t i = 0;
  while (i < n) {
    unsigned char kind = kClass.of[p[i]];
    if (kind == 0) {
      ++i;
      continue;
    }
    if (kind == 1) {
      out.append(value.data() + run, i - run);
      append_control_escape(out, p[i]);
      run = ++i;
      continue;
    }
    size_t len = utf8_sequence(p + i, n - i);
    if (len == 0) {
      return false;
    }
    if (len == 3 && p[i] == 0xe2 && p[i + 1] == 0x80 && (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
      // U+2028 and U+2029 end a line for JavaScript and some log viewers.
      out.append(value.data() + run, i - run);
      out += p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
      run = i + 3;
    }
    i += len;
  }
  out.append(value.data() + run, n - run);
  return true;
}

// A field key that can be written between quotes without any escaping, and that a reader cannot
// take for one of the two encoded forms: a key "x_base64" with a UTF-8 value would read back as
// key "x" with a base64 value, and "_key_base64_..." as an encoded key (found by fuzzing).
bool is_plain_key(std::string_view key) {
  if (key.empty() || key.starts_with(kKeyBase64Prefix) || key.ends_with("_base64")) {
    return false;
  }
  for (char c : key) {
    if (kClass.of[static_cast<unsigned char>(c)] != 0) {
      return false;
    }
  }
  return true;
}

void put_digits(char* at, uint32_t value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// Days since 1970-01-01 → civil date (proleptic Gregorian), by the era arithmetic of the
// well-known days-from-civil inverse. Our own instead of gmtime_r, which takes glibc's timezone
// lock on every call: this runs on every pool thread for every event.
void civil_from_days(int64_t days, int64_t& year, uint32_t& month, uint32_t& day) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<uint32_t>(days - era * 146097);
  const uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const uint32_t mp = (5 * doy + 2) / 153;
  day = doy - (153 * mp + 2) / 5 + 1;
  month = mp < 10 ? mp + 3 : mp - 9;
  year = static_cast<int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0);
}

}  // namespace

bool is_valid_utf8(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 0;
  while (i < n) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    size_t len = utf8_sequence(p + i, n - i);
    if (len == 0) {
      return false;
    }
    i += len;
  }
  return true;
}

void append_json_field(std::string& out, std::string_view key, std::string_view value) {
  const size_t mark = out.size();
  out += '"';
  out += key;
  out += "\":\"";
  if (!append_escaped_if_utf8(out, value)) {
    out.resize(mark);
    out += '"';
    out += key;
    out += "_base64\":\"";
    append_base64(out, value);
  }
  out += '"';
}

void append_rfc3339_ns(std::string& out, int64_t time_ns) {
  // RFC 3339 has four-digit years; a time outside 0000..9999 (only a broken or hostile agent
  // sends one) is clamped to the nearest representable instant.
  constexpr int64_t kMinSeconds = -62167219200;  // 0000-01-01T00:00:00Z
  constexpr int64_t kMaxSeconds = 253402300799;  // 9999-12-31T23:59:59Z
  int64_t seconds = time_ns / 1000000000;
  int64_t nanos = time_ns % 1000000000;
  if (nanos < 0) {
    nanos += 1000000000;
    --seconds;
  }
  if (seconds < kMinSeconds) {
    seconds = kMinSeconds;
    nanos = 0;
  }
  if (seconds > kMaxSeconds) {
    seconds = kMaxSeconds;
    nanos = 999999999;
  }
  int64_t days = seconds / 86400;
  int64_t rem = seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  int64_t year = 0;
  uint32_t month = 0;
  uint32_t day = 0;
  civil_from_days(days, year, month, day);
  const auto secs = static_cast<uint32_t>(rem);
  char buf[31] = "0000-00-00T00:00:00.000000000Z";
  put_digits(buf, static_cast<uint32_t>(year), 4);
  put_digits(buf + 5, month, 2);
  put_digits(buf + 8, day, 2);
  put_digits(buf + 11, secs / 3600, 2);
  put_digits(buf + 14, secs / 60 % 60, 2);
  put_digits(buf + 17, secs % 60, 2);
  put_digits(buf + 20, static_cast<uint32_t>(nanos), 9);
  out.append(buf, 30);
}

void append_event_json(std::string& out, std::string_view agent, std::string_view host,
                       const DecodedEvent& event) {
  out += "{\"ts\":\"";
  append_rfc3339_ns(out, event.time_ns);
  out += "\",";
  append_json_field(out, "agent", agent);
  out += ',';
  append_json_field(out, "host", host);
  out += ',';
  append_json_field(out, "collector", event.stream->collector);
  out += ',';
  append_json_field(out, "source", event.stream->source);
  out += ",\"offset\":";
  char number[24];
  auto [end, ec] = std::to_chars(number, number + sizeof number, event.offset);
  (void)ec;  // 24 bytes hold any uint64_t
  out.append(number, static_cast<size_t>(end - number));
  out += ',';
  append_json_field(out, "message", event.message);
  out += ",\"fields\":{";
  bool first = true;
  for (const auto* list : {&event.stream->fields, &event.fields}) {
    for (const auto& [key, value] : *list) {
      if (!first) {
        out += ',';
      }
      first = false;
      if (is_plain_key(key)) {
        append_json_field(out, key, value);
      } else {
        // Keys come from configs and parsers, but are bytes all the same. One that would need
        // escaping (or is empty, or not UTF-8) is written in a fixed, reversible shape instead:
        // both the key and the value base64-encoded (docs/ingest.md, "Fields").
        out += '"';
        out += kKeyBase64Prefix;
        append_base64(out, key);
        out += "\":\"";
        append_base64(out, value);
        out += '"';
      }
    }
  }
  out += "}}\n";
}

}  // namespace assas::transport
