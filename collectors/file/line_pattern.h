#pragma once

// A regular expression tested against log lines: PCRE2, JIT-compiled where the CPU allows, with
// match and depth limits so that a hostile line costs bounded time and never recurses deeply
// (the C++ standard library regex does both on long lines). Immutable after compile; one matcher
// per thread.

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace assas::collectors {

class LinePattern {
 public:
  // An invalid pattern gives an error naming the offset and PCRE2's reason.
  static Result<std::shared_ptr<const LinePattern>> compile(std::string_view pattern);
  ~LinePattern();
  LinePattern(const LinePattern&) = delete;
  LinePattern& operator=(const LinePattern&) = delete;

  // Matches anywhere in text (anchor with ^ to test the start). A match that exceeds the limits
  // counts as no match.
  bool matches(std::string_view text) const;
  const std::string& source() const { return source_; }

 private:
  struct Impl;
  explicit LinePattern(std::unique_ptr<Impl> impl, std::string source);
  std::unique_ptr<Impl> impl_;
  std::string source_;
};

}  // namespace assas::collectors
