#include "ingest/store_state.h"

#include <charconv>
#include <cinttypes>
#include <cstdio>

#include "base/crc32c.h"

namespace assas::ingest {
namespace {

constexpr std::string_view kMagic3 = "assas-ingest-state 3";

bool parse_u64(std::string_view text, uint64_t& out) {
  if (text.empty() || (text.size() > 1 && text[0] == '0')) {
    return false;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// "<key> <number>"
bool parse_field(std::string_view line, std::string_view key, uint64_t& out) {
  return line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ' ' &&
         parse_u64(line.substr(key.size() + 1), out);
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> out;
  while (true) {
    size_t at = text.find(separator);
    out.push_back(text.substr(0, at));
    if (at == std::string_view::npos) {
      return out;
    }
    text.remove_prefix(at + 1);
  }
}

// "stream <id> <upto>" (format 2) or "stream <id> <upto> <link|->" (format 3).
bool parse_stream(std::string_view line, int format, StreamState& out) {
  std::vector<std::string_view> words = split(line, ' ');
  if (words.size() != (format == 3 ? 4U : 3U) || words[0] != "stream" ||
      !parse_u64(words[1], out.id) || !parse_u64(words[2], out.upto)) {
    return false;
  }
  out.head_link.reset();
  if (format == 3 && words[3] != "-") {
    transport::Digest link{};
    if (!transport::digest_from_hex(words[3], link)) {
      return false;
    }
    out.head_link = link;
  }
  return true;
}

bool parse_body(const std::vector<std::string_view>& lines, StoreState& state) {
  uint64_t index = 0;
  size_t at = 0;
  if (lines.size() == 5 && lines[0] == "assas-ingest-state 1") {
    StreamState only;
    bool ok = parse_field(lines[1], "stream_id", only.id) &&
              parse_field(lines[2], "stored_upto", only.upto) &&
              parse_field(lines[3], "file_index", index) &&
              parse_field(lines[4], "file_size", state.file_size);
    if (!ok) {
      return false;
    }
    state.format = 1;
    state.streams = {only};
    at = lines.size();
  } else if (!lines.empty() && lines[0] == "assas-ingest-state 2") {
    state.format = 2;
    at = 3;
    if (lines.size() < at || !parse_field(lines[1], "file_index", index) ||
        !parse_field(lines[2], "file_size", state.file_size)) {
      return false;
    }
  } else if (!lines.empty() && lines[0] == kMagic3) {
    state.format = 3;
    at = 5;
    if (lines.size() < at || !parse_field(lines[1], "file_index", index) ||
        !parse_field(lines[2], "file_size", state.file_size) ||
        !parse_field(lines[3], "file_lines", state.file_lines) ||
        !parse_field(lines[4], "chain_size", state.chain_size)) {
      return false;
    }
  } else {
    return false;
  }
  if (index < 1 || index > kMaxFileIndex) {
    return false;
  }
  state.file_index = static_cast<uint32_t>(index);
  for (; at < lines.size(); ++at) {
    StreamState stream;
    if (state.streams.size() == StoreState::kMaxStreams ||
        !parse_stream(lines[at], state.format, stream)) {
      return false;
    }
    state.streams.push_back(stream);
  }
  return true;
}

}  // namespace

const StreamState* StoreState::find(uint64_t stream_id) const {
  for (const StreamState& stream : streams) {
    if (stream.id == stream_id) {
      return &stream;
    }
  }
  return nullptr;
}

uint64_t StoreState::upto(uint64_t stream_id) const {
  const StreamState* stream = find(stream_id);
  return stream == nullptr ? 0 : stream->upto;
}

std::optional<uint64_t> StoreState::set(uint64_t stream_id, uint64_t stored_upto,
                                        const transport::Digest& link) {
  for (auto it = streams.begin(); it != streams.end(); ++it) {
    if (it->id == stream_id) {
      streams.erase(it);
      break;
    }
  }
  streams.insert(streams.begin(), StreamState{stream_id, stored_upto, link});
  if (streams.size() <= kMaxStreams) {
    return std::nullopt;
  }
  uint64_t evicted = streams.back().id;
  streams.pop_back();
  return evicted;
}

std::string encode_store_state(const StoreState& state) {
  char line[160];
  std::snprintf(line, sizeof line,
                "%.*s\nfile_index %u\nfile_size %" PRIu64 "\nfile_lines %" PRIu64
                "\nchain_size %" PRIu64 "\n",
                static_cast<int>(kMagic3.size()), kMagic3.data(), state.file_index, state.file_size,
                state.file_lines, state.chain_size);
  std::string out = line;
  for (const StreamState& stream : state.streams) {
    std::snprintf(line, sizeof line, "stream %" PRIu64 " %" PRIu64 " ", stream.id, stream.upto);
    out += line;
    out += stream.head_link ? transport::to_hex(*stream.head_link) : std::string("-");
    out += '\n';
  }
  std::snprintf(line, sizeof line, "crc %08x\n", crc32c::value(out));
  return out + line;
}

std::optional<StoreState> decode_store_state(std::string_view text) {
  // The last line is "crc <8 hex digits>\n" over everything before it.
  constexpr size_t kCrcLine = 13;
  if (text.size() < kCrcLine || text.back() != '\n') {
    return std::nullopt;
  }
  std::string_view body = text.substr(0, text.size() - kCrcLine);
  std::string_view crc = text.substr(body.size(), kCrcLine - 1);
  uint32_t stored = 0;
  auto [end, ec] = std::from_chars(crc.data() + 4, crc.data() + crc.size(), stored, 16);
  if (crc.substr(0, 4) != "crc " || ec != std::errc() || end != crc.data() + crc.size() ||
      crc.find_first_of("ABCDEF+-") != std::string_view::npos || stored != crc32c::value(body) ||
      body.empty() || body.back() != '\n') {
    return std::nullopt;
  }
  body.remove_suffix(1);
  StoreState state;
  if (!parse_body(split(body, '\n'), state)) {
    return std::nullopt;
  }
  return state;
}

}  // namespace assas::ingest
