#include "ingest/chain_record.h"

#include <algorithm>
#include <charconv>
#include <cinttypes>
#include <cstdio>

#include "base/base64.h"

namespace assas::ingest {
namespace {

void append_u64(std::string& out, uint64_t value) {
  char text[24];
  auto [end, ec] = std::to_chars(text, text + sizeof text, value);
  (void)ec;  // 24 bytes hold any uint64_t
  out.append(text, static_cast<size_t>(end - text));
}

bool parse_u64(std::string_view text, uint64_t& out) {
  if (text.empty() || (text.size() > 1 && text[0] == '0')) {
    return false;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool parse_hex_u64(std::string_view text, uint64_t& out) {
  if (text.size() != 16) {
    return false;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 16);
  return ec == std::errc() && end == text.data() + text.size() &&
         text.find_first_of("ABCDEF") == std::string_view::npos;
}

bool is_status_word(std::string_view word) {
  static constexpr std::string_view kWords[] = {"ok",         "start",         "lane",
                                                "gap",        "restart",       "unchained",
                                                "break-link", "break-missing", "break-signature"};
  for (std::string_view w : kWords) {
    if (w == word) {
      return true;
    }
  }
  return false;
}

bool parse_status(std::string_view text) {
  while (true) {
    size_t plus = text.find('+');
    if (!is_status_word(text.substr(0, plus))) {
      return false;
    }
    if (plus == std::string_view::npos) {
      return true;
    }
    text.remove_prefix(plus + 1);
  }
}

}  // namespace

void append_chain_record(std::string& out, const ChainRecord& r) {
  char stream[20];
  std::snprintf(stream, sizeof stream, "%016" PRIx64, r.stream);
  out += "batch ";
  out += stream;
  out += ' ';
  append_u64(out, r.seq);
  out += ' ';
  append_u64(out, r.prev_seq);
  out += ' ';
  out += transport::to_hex(r.prev_link);
  out += ' ';
  out += transport::to_hex(r.link);
  out += ' ';
  append_u64(out, r.line);
  out += ' ';
  append_u64(out, r.events);
  out += ' ';
  out += r.status;
  out += ' ';
  if (r.signature.empty()) {
    out += '-';
  } else {
    append_base64(out, r.signature);
  }
  out += ' ';
  out += r.cert.empty() ? std::string_view("-") : std::string_view(r.cert);
  out += ' ';
  if (r.fingerprints.empty()) {
    out += '-';
  }
  for (uint32_t fp : r.fingerprints) {
    char hex[12];
    std::snprintf(hex, sizeof hex, "%08" PRIx32, fp);
    out.append(hex, 8);
  }
  out += '\n';
}

Result<ChainRecord> parse_chain_record(std::string_view line, uint32_t max_events) {
  // Exactly 12 fields, one space between each: a record has one spelling (a space more, even at
  // the end, is an edit).
  std::vector<std::string_view> fields;
  for (size_t at = 0; fields.size() < 13;) {
    size_t space = line.find(' ', at);
    fields.push_back(line.substr(at, space == std::string_view::npos ? space : space - at));
    if (space == std::string_view::npos) {
      break;
    }
    at = space + 1;
  }
  bool empty_field =
      std::any_of(fields.begin(), fields.end(), [](std::string_view f) { return f.empty(); });
  if (fields.size() != 12 || empty_field || fields[0] != "batch") {
    return corruption("not a chain record (expected 12 fields: batch <stream> <seq> ...)");
  }
  ChainRecord r;
  uint64_t events = 0;
  auto bad = [](std::string_view what) { return corruption("bad " + std::string(what)); };
  if (!parse_hex_u64(fields[1], r.stream)) {
    return bad("stream");
  }
  if (!parse_u64(fields[2], r.seq)) {
    return bad("seq");
  }
  if (!parse_u64(fields[3], r.prev_seq)) {
    return bad("prev_seq");
  }
  if (!transport::digest_from_hex(fields[4], r.prev_link)) {
    return bad("prev_link");
  }
  if (!transport::digest_from_hex(fields[5], r.link)) {
    return bad("link");
  }
  if (!parse_u64(fields[6], r.line) || r.line == 0) {
    return bad("line");
  }
  if (!parse_u64(fields[7], events) || events > max_events) {
    return bad("events");
  }
  r.events = static_cast<uint32_t>(events);
  if (!parse_status(fields[8])) {
    return bad("status");
  }
  r.status = fields[8];
  if (fields[9] != "-" && (!decode_base64(fields[9], r.signature) || r.signature.empty())) {
    return bad("signature");
  }
  if (fields[10] != "-") {
    transport::Digest cert{};
    if (!transport::digest_from_hex(fields[10], cert)) {
      return bad("cert");
    }
    r.cert = fields[10];
  }
  std::string_view fps = fields[11];
  if (fps == "-" ? r.events != 0 : fps.size() != 8ULL * r.events) {
    return bad("fingerprints (8 hex digits per event)");
  }
  if (fps != "-") {
    r.fingerprints.reserve(r.events);
    for (size_t at = 0; at < fps.size(); at += 8) {
      uint32_t fp = 0;
      std::string_view hex = fps.substr(at, 8);
      auto [end, ec] = std::from_chars(hex.data(), hex.data() + 8, fp, 16);
      if (ec != std::errc() || end != hex.data() + 8 ||
          hex.find_first_of("ABCDEF+-") != std::string_view::npos) {
        return bad("fingerprints (8 hex digits per event)");
      }
      r.fingerprints.push_back(fp);
    }
  }
  return r;
}

bool is_break_status(std::string_view status) {
  return status.find("break-") != std::string_view::npos;
}

}  // namespace assas::ingest
