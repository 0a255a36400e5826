#include "transport/relp/relp_frame.h"

#include <charconv>

#include "base/log.h"

namespace assas::transport {
namespace {

constexpr size_t kMaxNumberDigits = 9;
constexpr size_t kMaxCommandBytes = 32;
constexpr size_t kMaxOfferNameBytes = 32;
constexpr size_t kMaxOfferValueBytes = 255;
constexpr size_t kMaxOfferValues = 64;
constexpr size_t kQuotedBytes = 40;  // how much of a bad field an error message shows

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Only ASCII letters: librelp uses isalpha() in the C locale.
bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// A byte as an error message shows it: 'x' when printable, 0x0d otherwise.
std::string describe(char c) {
  if (c >= 0x20 && c < 0x7f) {
    return std::string("'") + c + "'";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  auto byte = static_cast<unsigned char>(c);
  return std::string("0x") + kHex[byte >> 4] + kHex[byte & 0xf];
}

// Text from the peer quoted in an error message, clipped and with control bytes escaped.
std::string quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text.substr(0, kQuotedBytes)) {
    out += (c >= 0x20 && c < 0x7f) ? std::string(1, c) : "\\" + describe(c).substr(1);
  }
  out += text.size() > kQuotedBytes ? "...\"" : "\"";
  return out;
}

Status bad_frame(const std::string& what) {
  return corruption("malformed RELP frame: " + what);
}

// Where a header field ends: at `end` (the index of the byte after it), or not yet known because
// the buffered bytes stop inside the field.
struct FieldEnd {
  bool complete = false;
  size_t end = 0;
};

// Scans a decimal field of 1-9 digits starting at pos. value holds what has been read so far even
// when the field is incomplete, so that callers can refuse a DATALEN before it ends.
Result<FieldEnd> scan_number(std::string_view in, size_t pos, const char* field, uint32_t& value) {
  value = 0;
  size_t i = pos;
  for (; i < in.size() && is_digit(in[i]); ++i) {
    if (i - pos == kMaxNumberDigits) {
      return bad_frame(std::string(field) + " has more than 9 digits");
    }
    value = value * 10 + static_cast<uint32_t>(in[i] - '0');
  }
  if (i == in.size()) {
    return FieldEnd{};
  }
  if (i == pos) {
    return bad_frame(std::string(field) + " starts with " + describe(in[i]) + ", not a digit");
  }
  return FieldEnd{true, i};
}

Result<FieldEnd> scan_command(std::string_view in, size_t pos) {
  size_t i = pos;
  for (; i < in.size() && is_letter(in[i]); ++i) {
    if (i - pos == kMaxCommandBytes) {
      return bad_frame("command " + quote(in.substr(pos, i - pos)) + " is longer than 32 letters");
    }
  }
  if (i == in.size()) {
    return FieldEnd{};
  }
  if (i == pos) {
    return bad_frame("command starts with " + describe(in[i]) + ", not a letter");
  }
  return FieldEnd{true, i};
}

Status expect_space(std::string_view in, size_t pos, const char* after) {
  if (in[pos] != ' ') {
    return bad_frame(describe(in[pos]) + " after the " + after + " where a space belongs");
  }
  return Status::ok();
}

// relp_version takes exactly one value, a number of at most 9 digits.
std::optional<int> parse_version(const std::vector<std::string_view>& values) {
  if (values.size() != 1 || values[0].size() > kMaxNumberDigits) {
    return std::nullopt;
  }
  int version = 0;
  for (char c : values[0]) {
    if (!is_digit(c)) {
      return std::nullopt;
    }
    version = version * 10 + (c - '0');
  }
  return version;
}

void append_number(std::string& out, size_t value) {
  char digits[20];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), value);
  ASSAS_CHECK(ec == std::errc(), "20 bytes hold any size_t");
  out.append(digits, end);
}

}  // namespace

uint32_t next_relp_txnr(uint32_t txnr) {
  return txnr >= kRelpMaxTxnr ? 1 : txnr + 1;
}

void encode_relp_frame(uint32_t txnr, std::string_view command, std::string_view data,
                       std::string& out) {
  ASSAS_CHECK(txnr <= kRelpMaxTxnr, "callers number commands with next_relp_txnr()");
  ASSAS_CHECK(!command.empty() && command.size() <= kMaxCommandBytes,
              "RELP commands are our own constants");
  for (char c : command) {
    ASSAS_CHECK(is_letter(c), "RELP commands are our own constants");
  }
  ASSAS_CHECK(data.size() <= kRelpMaxDatalen, "the output bounds message sizes");
  out.reserve(out.size() + 2 * kMaxNumberDigits + command.size() + data.size() + 4);
  append_number(out, txnr);
  out += ' ';
  out.append(command);
  out += ' ';
  append_number(out, data.size());
  // The SP before DATA is there only when DATA is: librelp reads "0 " as a missing trailer.
  if (!data.empty()) {
    out += ' ';
    out.append(data);
  }
  out += '\n';
}

void RelpFrameDecoder::feed(std::string_view bytes) {
  // Drop what was consumed before growing, so the buffer holds at most one frame plus one read.
  if (consumed_ > 0) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
}

Result<std::optional<RelpFrame>> RelpFrameDecoder::next() {
  // The header is at most 53 bytes, so parsing it again on every call costs little and keeps the
  // decoder free of per-field state; an error leaves consumed_ alone and so repeats.
  std::string_view in(buffer_.data() + consumed_, buffer_.size() - consumed_);
  const std::optional<RelpFrame> need_more;
  if (in.empty()) {
    return need_more;
  }

  RelpFrame frame;
  Result<FieldEnd> txnr = scan_number(in, 0, "TXNR", frame.txnr);
  if (!txnr.is_ok()) {
    return txnr.status();
  }
  if (!txnr->complete) {
    return need_more;
  }
  ASSAS_RETURN_IF_ERROR(expect_space(in, txnr->end, "TXNR"));

  Result<FieldEnd> command = scan_command(in, txnr->end + 1);
  if (!command.is_ok()) {
    return command.status();
  }
  if (!command->complete) {
    return need_more;
  }
  ASSAS_RETURN_IF_ERROR(expect_space(in, command->end, "command"));
  frame.command = in.substr(txnr->end + 1, command->end - txnr->end - 1);

  uint32_t datalen = 0;
  Result<FieldEnd> length = scan_number(in, command->end + 1, "DATALEN", datalen);
  if (!length.is_ok()) {
    return length.status();
  }
  // Checked on the digits so far, which only grow: a peer announcing a huge frame is refused
  // before we wait for, or buffer, any of it.
  if (datalen > max_data_bytes_) {
    return bad_frame(std::string(frame.command) + " frame announces DATALEN " +
                     (length->complete ? "" : "of at least ") + std::to_string(datalen) +
                     ", more than the limit of " + std::to_string(max_data_bytes_) + " bytes");
  }
  if (!length->complete) {
    return need_more;
  }

  size_t data_start = length->end + 1;  // past the SP, or past the LF when there is no data
  if (datalen == 0) {
    if (in[length->end] != '\n') {
      return bad_frame(describe(in[length->end]) + " after DATALEN 0 where the LF trailer belongs");
    }
  } else {
    ASSAS_RETURN_IF_ERROR(expect_space(in, length->end, "DATALEN"));
    if (in.size() < data_start + datalen + 1) {
      return need_more;
    }
    if (in[data_start + datalen] != '\n') {
      return bad_frame(describe(in[data_start + datalen]) + " after " + std::to_string(datalen) +
                       " bytes of " + std::string(frame.command) +
                       " data where the LF trailer belongs (DATALEN does not match the data)");
    }
    frame.data = in.substr(data_start, datalen);
  }
  consumed_ += datalen == 0 ? data_start : data_start + datalen + 1;
  return std::optional<RelpFrame>(frame);
}

Result<RelpResponse> parse_relp_response(std::string_view rsp_data) {
  if (rsp_data.size() < 3 || !is_digit(rsp_data[0]) || !is_digit(rsp_data[1]) ||
      !is_digit(rsp_data[2])) {
    return corruption("RELP rsp " + quote(rsp_data) + " does not start with a 3-digit status code");
  }
  RelpResponse response;
  response.code = (rsp_data[0] - '0') * 100 + (rsp_data[1] - '0') * 10 + (rsp_data[2] - '0');
  std::string_view rest = rsp_data.substr(3);
  if (rest.empty()) {
    return response;
  }
  if (rest[0] == '\n') {
    response.data = rest.substr(1);
    return response;
  }
  if (rest[0] != ' ') {
    return corruption("RELP rsp " + quote(rsp_data) + " has " + describe(rest[0]) +
                      " after its status code where a space or LF belongs");
  }
  rest.remove_prefix(1);
  size_t lf = rest.find('\n');
  response.text = rest.substr(0, lf);
  if (lf != std::string_view::npos) {
    response.data = rest.substr(lf + 1);
  }
  return response;
}

Result<RelpOffers> parse_relp_offers(std::string_view data) {
  RelpOffers offers;
  bool have_version = false;
  while (!data.empty()) {
    size_t lf = data.find('\n');
    std::string_view line = data.substr(0, lf);
    data = lf == std::string_view::npos ? std::string_view() : data.substr(lf + 1);
    if (line.empty()) {
      continue;
    }
    size_t eq = line.find('=');
    std::string_view name = line.substr(0, eq);
    std::string_view raw_values =
        eq == std::string_view::npos ? std::string_view() : line.substr(eq + 1);
    if (name.empty() || name.size() > kMaxOfferNameBytes) {
      return corruption("RELP offer name " + quote(name) + " is empty or longer than 32 bytes");
    }

    // Every offer is checked against librelp's limits, known or not; only known ones are kept.
    std::vector<std::string_view> values;
    for (std::string_view rest = raw_values; !rest.empty();) {
      size_t comma = rest.find(',');
      std::string_view value = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      if (value.size() > kMaxOfferValueBytes) {
        return corruption("RELP offer " + std::string(name) + " has a value longer than 255 bytes");
      }
      if (value.empty()) {
        continue;  // "a,,b": librelp skips empty values too
      }
      if (values.size() == kMaxOfferValues) {
        return corruption("RELP offer " + std::string(name) + " has more than 64 values");
      }
      values.push_back(value);
    }

    if (name == "relp_version") {
      std::optional<int> version = parse_version(values);
      if (!version) {
        return corruption("RELP offer relp_version=" + quote(raw_values) + " is not one number");
      }
      offers.relp_version = *version;
      have_version = true;
    } else if (name == "relp_software") {
      offers.software.assign(raw_values);
    } else if (name == "commands") {
      for (std::string_view command : values) {
        if (offers.commands.size() == kMaxOfferValues) {
          return corruption("RELP offers name more than 64 commands");
        }
        offers.commands.emplace_back(command);
      }
    }
  }
  if (!have_version) {
    return corruption("RELP offers have no relp_version");
  }
  return offers;
}

std::string relp_client_offers(std::string_view software) {
  ASSAS_CHECK(software.size() <= kMaxOfferValueBytes && software.find('\n') == std::string::npos,
              "the software offer is our own constant");
  std::string offers = "relp_version=0\nrelp_software=";
  offers.append(software);
  offers += "\ncommands=syslog";
  return offers;
}

}  // namespace assas::transport
