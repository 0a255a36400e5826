#pragma once

// Status and Result<T>: the one error convention of Assas. Recoverable errors are values; libuv,
// errno, OpenSSL and yaml-cpp errors are converted into a Status once, at the boundary. A Status
// is a null pointer when OK, as in leveldb, so passing success around costs nothing.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace assas {

// Codes are chosen for the decision the caller must take, not for where the error came from.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // bad config or input: never retry
  kNotFound,           // a file, key or peer that is not there
  kIoError,            // the disk or the OS failed: retry later or stop
  kCorruption,         // bytes failed a check (CRC, framing): count, skip, alert
  kUnavailable,        // the network or peer is down: retry with backoff
  kResourceExhausted,  // disk full, no credits, a limit reached: push back
  kPermissionDenied,   // TLS verification, authentication, file modes: do not retry blindly
  kInternal,           // a bug
};

std::string_view status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message);

  static Status ok() { return Status(); }

  bool is_ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  // The message without the code, e.g. "agent.yaml:3:5: buffer.max_size: ..."; empty when OK.
  const std::string& message() const;
  // "InvalidArgument: <message>" or "OK".
  std::string to_string() const;

  // Prefixes context to the message, keeping the code: "opening segment: <message>".
  Status with_context(std::string_view context) const;

  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;
  ~Status() = default;

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<Rep> rep_;
};

inline Status invalid_argument(std::string message) {
  return {StatusCode::kInvalidArgument, std::move(message)};
}
inline Status not_found(std::string message) {
  return {StatusCode::kNotFound, std::move(message)};
}
inline Status io_error(std::string message) {
  return {StatusCode::kIoError, std::move(message)};
}
inline Status corruption(std::string message) {
  return {StatusCode::kCorruption, std::move(message)};
}
inline Status unavailable(std::string message) {
  return {StatusCode::kUnavailable, std::move(message)};
}
inline Status resource_exhausted(std::string message) {
  return {StatusCode::kResourceExhausted, std::move(message)};
}
inline Status permission_denied(std::string message) {
  return {StatusCode::kPermissionDenied, std::move(message)};
}
inline Status internal_error(std::string message) {
  return {StatusCode::kInternal, std::move(message)};
}

// errno → Status, with the context first: "open '/var/lib/assas/x': Permission denied".
Status posix_status(std::string_view context, int error_number);

// A value or the Status saying why there is none. Our own, because GCC 12 has std::expected only
// under -std=c++2b and clang-tidy 14 cannot parse it.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : data_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool is_ok() const { return std::holds_alternative<T>(data_); }
  // The error; an OK Status when there is a value.
  Status status() const { return is_ok() ? Status::ok() : std::get<Status>(data_); }

  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace assas

// Returns the Status of an expression from the enclosing function when it is not OK. The one macro
// that returns, named so that it says so.
#define ASSAS_RETURN_IF_ERROR(expr)         \
  do {                                      \
    ::assas::Status assas_status_ = (expr); \
    if (!assas_status_.is_ok()) {           \
      return assas_status_;                 \
    }                                       \
  } while (false)
