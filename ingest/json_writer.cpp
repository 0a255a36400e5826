#include "ingest/json_writer.h"

#include <ctime>

namespace assas::ingest {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Length of the valid UTF-8 sequence starting at p, or 0 if it is not one.
size_t utf8_sequence(const unsigned char* p, size_t left) {
  unsigned char c = p[0];
  if (c < 0x80) {
    return 1;
  }
  auto cont = [&](size_t i) { return i < left && (p[i] & 0xc0) == 0x80; };
  if (c >= 0xc2 && c <= 0xdf) {
    return cont(1) ? 2 : 0;
  }
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(1) || !cont(2)) {
      return 0;
    }
    if (c == 0xe0 && p[1] < 0xa0) {
      return 0;  // overlong
    }
    if (c == 0xed && p[1] >= 0xa0) {
      return 0;  // UTF-16 surrogate
    }
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) {
      return 0;
    }
    if (c == 0xf0 && p[1] < 0x90) {
      return 0;  // overlong
    }
    if (c == 0xf4 && p[1] >= 0x90) {
      return 0;  // above U+10FFFF
    }
    return 4;
  }
  return 0;
}

void append_base64(std::string& out, std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    out += kBase64[v >> 18];
    out += kBase64[(v >> 12) & 63];
    out += kBase64[(v >> 6) & 63];
    out += kBase64[v & 63];
  }
  if (i + 1 == n) {
    uint32_t v = p[i] << 16;
    out += kBase64[v >> 18];
    out += kBase64[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == n) {
    uint32_t v = (p[i] << 16) | (p[i + 1] << 8);
    out += kBase64[v >> 18];
    out += kBase64[(v >> 12) & 63];
    out += kBase64[(v >> 6) & 63];
    out += '=';
  }
}

// The value of a string already known to be valid UTF-8, escaped.
void append_escaped(std::string& out, std::string_view value) {
  const auto* p = reinterpret_cast<const unsigned char*>(value.data());
  size_t n = value.size();
  size_t run = 0;  // start of the pending run of bytes that need no escaping
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = p[i];
    const char* escape = nullptr;
    char unicode[7] = {};
    if (c == '"') {
      escape = "\\\"";
    } else if (c == '\\') {
      escape = "\\\\";
    } else if (c == '\n') {
      escape = "\\n";
    } else if (c == '\r') {
      escape = "\\r";
    } else if (c == '\t') {
      escape = "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      unicode[0] = '\\';
      unicode[1] = 'u';
      unicode[2] = '0';
      unicode[3] = '0';
      unicode[4] = kHex[c >> 4];
      unicode[5] = kHex[c & 15];
      escape = unicode;
    } else if (c == 0xe2 && i + 2 < n && p[i + 1] == 0x80 && (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
      // U+2028/U+2029 end a line for JavaScript and some log viewers.
      escape = p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
      out.append(value.data() + run, i - run);
      out += escape;
      i += 2;
      run = i + 1;
      continue;
    }
    if (escape != nullptr) {
      out.append(value.data() + run, i - run);
      out += escape;
      run = i + 1;
    }
  }
  out.append(value.data() + run, n - run);
}

}  // namespace

bool is_valid_utf8(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  size_t i = 0;
  while (i < n) {
    // Fast path over ASCII, eight bytes at a time.
    while (i + 8 <= n) {
      uint64_t word = 0;
      __builtin_memcpy(&word, p + i, 8);
      if ((word & 0x8080808080808080ULL) != 0) {
        break;
      }
      i += 8;
    }
    if (i >= n) {
      break;
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
  out += '"';
  out += key;
  if (is_valid_utf8(value)) {
    out += "\":\"";
    append_escaped(out, value);
  } else {
    out += "_base64\":\"";
    append_base64(out, value);
  }
  out += '"';
}

void append_rfc3339_ns(std::string& out, int64_t time_ns) {
  int64_t seconds = time_ns / 1000000000;
  int64_t nanos = time_ns % 1000000000;
  if (nanos < 0) {
    nanos += 1000000000;
    --seconds;
  }
  time_t t = static_cast<time_t>(seconds);
  tm utc{};
  gmtime_r(&t, &utc);
  char buf[48];
  int len = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09dZ",
                          utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                          utc.tm_min, utc.tm_sec, static_cast<int>(nanos));
  out.append(buf, static_cast<size_t>(len));
}

void append_event_json(std::string& out, std::string_view agent, std::string_view host,
                       const transport::DecodedEvent& event) {
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
  out += std::to_string(event.offset);
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
      // Keys come from configs and parsers, but are bytes all the same: a key that is not plain
      // printable ASCII is written escaped as a value would be, under a fixed shape.
      bool plain_key = !key.empty();
      for (char c : key) {
        plain_key = plain_key && c > 0x20 && c < 0x7f && c != '"' && c != '\\';
      }
      if (plain_key) {
        append_json_field(out, key, value);
      } else {
        out += "\"_invalid_key_base64_";
        append_base64(out, key);
        out += "\":\"";
        append_base64(out, value);
        out += '"';
      }
    }
  }
  out += "}}\n";
}

}  // namespace assas::ingest
