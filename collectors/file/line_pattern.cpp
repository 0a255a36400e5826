#include "collectors/file/line_pattern.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace assas::collectors {

namespace {
// Bounds on the work one line may cost: enough for any sane start pattern, far below what a
// catastrophic-backtracking pattern on a 1 MiB line would take.
constexpr uint32_t kMatchLimit = 1'000'000;
constexpr uint32_t kDepthLimit = 10'000;
}  // namespace

struct LinePattern::Impl {
  pcre2_code* code = nullptr;
  pcre2_match_context* context = nullptr;
  pcre2_match_data* data = nullptr;
  ~Impl() {
    pcre2_match_data_free(data);
    pcre2_match_context_free(context);
    pcre2_code_free(code);
  }
};

LinePattern::LinePattern(std::unique_ptr<Impl> impl, std::string source)
    : impl_(std::move(impl)), source_(std::move(source)) {}

LinePattern::~LinePattern() = default;

Result<std::shared_ptr<const LinePattern>> LinePattern::compile(std::string_view pattern) {
  int error = 0;
  PCRE2_SIZE error_offset = 0;
  auto impl = std::make_unique<Impl>();
  // Log lines are bytes, not necessarily UTF-8: no PCRE2_UTF, so invalid UTF-8 cannot fail a match.
  impl->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), 0,
                             &error, &error_offset, nullptr);
  if (impl->code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    return invalid_argument("invalid regular expression at offset " + std::to_string(error_offset) +
                            ": " + reinterpret_cast<const char*>(message));
  }
  (void)pcre2_jit_compile(impl->code, PCRE2_JIT_COMPLETE);  // interpreted if JIT is unavailable
  impl->context = pcre2_match_context_create(nullptr);
  impl->data = pcre2_match_data_create_from_pattern(impl->code, nullptr);
  if (impl->context == nullptr || impl->data == nullptr) {
    return internal_error("out of memory compiling a regular expression");
  }
  pcre2_set_match_limit(impl->context, kMatchLimit);
  pcre2_set_depth_limit(impl->context, kDepthLimit);
  return std::shared_ptr<const LinePattern>(new LinePattern(std::move(impl), std::string(pattern)));
}

bool LinePattern::matches(std::string_view text) const {
  int rc = pcre2_match(impl_->code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), 0, 0,
                       impl_->data, impl_->context);
  return rc >= 0;
}

}  // namespace assas::collectors
