#pragma once

// What the fuzz targets share. A target checks properties, not only the absence of crashes:
// ASSAS_FUZZ_CHECK stops the run (abort, which libFuzzer and the replay tests report as a crash
// with the input that caused it) when one does not hold. FuzzInput splits the fuzzer's bytes into
// the choices a target makes (limits, split points) and the data itself, so that the fuzzer
// explores both.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define ASSAS_FUZZ_CHECK(cond)                                \
  do {                                                        \
    if (!(cond)) {                                            \
      ::assas::fuzz::check_failed(#cond, __FILE__, __LINE__); \
    }                                                         \
  } while (0)

namespace assas::fuzz {

[[noreturn]] inline void check_failed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: property violated: %s\n", file, line, what);
  std::abort();
}

// Reads choices from the front of the input; past its end every choice is 0 and every byte
// string empty, so any input is a valid sequence of choices.
class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}

  uint8_t byte() {
    if (rest_.empty()) {
      return 0;
    }
    auto b = static_cast<uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }
  uint16_t u16() { return static_cast<uint16_t>(byte() | (byte() << 8)); }
  uint32_t u32() { return u16() | (static_cast<uint32_t>(u16()) << 16); }
  uint64_t u64() { return u32() | (static_cast<uint64_t>(u32()) << 32); }
  // Up to n bytes.
  std::string_view bytes(size_t n) {
    std::string_view out = rest_.substr(0, n);
    rest_.remove_prefix(out.size());
    return out;
  }
  // A byte string whose length (0..max) the fuzzer chooses with one byte or two.
  std::string_view sized(size_t max) {
    size_t n = max < 256 ? byte() : u16();
    return bytes(n % (max + 1));
  }
  std::string_view rest() { return bytes(rest_.size()); }
  size_t left() const { return rest_.size(); }

 private:
  std::string_view rest_;
};

// Cuts stream into pieces, the i-th splits[i] bytes long (possibly 0) and the last the rest, and
// calls feed(piece, i) for each until the stream is used up or feed returns false: how the
// targets check that any split of a byte stream decodes the same.
template <typename Feed>
void feed_in_pieces(std::string_view stream, std::string_view splits, Feed&& feed) {
  for (size_t i = 0; !stream.empty(); ++i) {
    size_t n = i < splits.size() ? static_cast<uint8_t>(splits[i]) : stream.size();
    std::string_view piece = stream.substr(0, n);
    stream.remove_prefix(piece.size());
    if (!feed(piece, i)) {
      return;
    }
  }
}

}  // namespace assas::fuzz
