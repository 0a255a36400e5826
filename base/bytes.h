#pragma once

// Little-endian fixed-width and LEB128 varint encoding, shared by the disk buffer, the batch codec
// and the wire protocol. ByteReader never reads past its input: every get_* reports failure
// instead, because every byte it sees may come from a hostile file or peer.

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace assas {

inline void put_u8(std::string& out, uint8_t v) {
  out.push_back(static_cast<char>(v));
}

inline void put_u16(std::string& out, uint16_t v) {
  char b[2] = {static_cast<char>(v), static_cast<char>(v >> 8)};
  out.append(b, 2);
}

inline void put_u32(std::string& out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) {
    b[i] = static_cast<char>(v >> (8 * i));
  }
  out.append(b, 4);
}

inline void put_u64(std::string& out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<char>(v >> (8 * i));
  }
  out.append(b, 8);
}

inline void put_varint(std::string& out, uint64_t v) {
  char b[10];
  size_t n = 0;
  while (v >= 0x80) {
    b[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  b[n++] = static_cast<char>(v);
  out.append(b, n);
}

// A varint length followed by the bytes.
inline void put_bytes(std::string& out, std::string_view bytes) {
  put_varint(out, bytes.size());
  out.append(bytes);
}

inline void store_u32(char* at, uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    at[i] = static_cast<char>(v >> (8 * i));
  }
}

inline uint32_t load_u32(const char* at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) {
    v = (v << 8) | static_cast<uint8_t>(at[i]);
  }
  return v;
}

inline uint64_t load_u64(const char* at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) {
    v = (v << 8) | static_cast<uint8_t>(at[i]);
  }
  return v;
}

// Reads from a borrowed buffer. After any failed get, ok() stays false and later gets fail too, so
// a decoder can read a whole structure and check once.
class ByteReader {
 public:
  explicit ByteReader(std::string_view input) : input_(input) {}

  bool ok() const { return ok_; }
  size_t remaining() const { return ok_ ? input_.size() - pos_ : 0; }
  bool at_end() const { return ok_ && pos_ == input_.size(); }
  size_t position() const { return pos_; }

  bool get_u8(uint8_t& v) {
    if (!need(1)) {
      return false;
    }
    v = static_cast<uint8_t>(input_[pos_++]);
    return true;
  }
  bool get_u16(uint16_t& v) {
    if (!need(2)) {
      return false;
    }
    v = static_cast<uint16_t>(static_cast<uint8_t>(input_[pos_]) |
                              (static_cast<uint8_t>(input_[pos_ + 1]) << 8));
    pos_ += 2;
    return true;
  }
  bool get_u32(uint32_t& v) {
    if (!need(4)) {
      return false;
    }
    v = load_u32(input_.data() + pos_);
    pos_ += 4;
    return true;
  }
  bool get_u64(uint64_t& v) {
    if (!need(8)) {
      return false;
    }
    v = load_u64(input_.data() + pos_);
    pos_ += 8;
    return true;
  }
  bool get_varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t byte = 0;
      if (!get_u8(byte)) {
        return false;
      }
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        return true;
      }
    }
    return fail();  // more than 10 bytes: not a varint we wrote
  }
  // A varint length then that many bytes; fails if the length exceeds max_len or the input.
  bool get_bytes(std::string_view& v, size_t max_len = SIZE_MAX) {
    uint64_t len = 0;
    if (!get_varint(len) || len > max_len) {
      return fail();
    }
    return get_raw(v, static_cast<size_t>(len));
  }
  bool get_raw(std::string_view& v, size_t len) {
    if (!need(len)) {
      return false;
    }
    v = input_.substr(pos_, len);
    pos_ += len;
    return true;
  }
  std::string_view rest() {
    std::string_view v = ok_ ? input_.substr(pos_) : std::string_view();
    pos_ = input_.size();
    return v;
  }

 private:
  bool need(size_t n) {
    if (!ok_ || input_.size() - pos_ < n) {
      return fail();
    }
    return true;
  }
  bool fail() {
    ok_ = false;
    return false;
  }

  std::string_view input_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Parses text that is nothing but decimal digits (no sign, no spaces) into a uint64_t; false if it
// is empty, holds anything else, or overflows. For the numbers in our own state files and names.
inline bool parse_decimal_u64(std::string_view text, uint64_t& out) {
  if (text.empty() || text.front() < '0' || text.front() > '9') {
    return false;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace assas
