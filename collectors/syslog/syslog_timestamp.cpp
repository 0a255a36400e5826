#include "collectors/syslog/syslog_timestamp.h"

#include <array>

// Every index is checked against the size before the byte at it is read.

namespace assas::collectors {
namespace {

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr size_t kMaxFractionDigits = 9;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// hh:mm:ss at s[at..].
bool time_at(std::string_view s, size_t at) {
  int hour = number_at(s, at, 2);
  int minute = number_at(s, at + 3, 2);
  int second = number_at(s, at + 6, 2);
  return hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 60 &&
         s[at + 2] == ':' && s[at + 5] == ':';
}

// After an optional ".digits" at s[at]: where it ends; 0 for a '.' without digits or too many.
size_t skip_fraction(std::string_view s, size_t at) {
  if (at >= s.size() || s[at] != '.') {
    return at;
  }
  size_t end = at + 1;
  while (end < s.size() && is_digit(s[end]) && end - at <= kMaxFractionDigits) {
    ++end;
  }
  size_t digits = end - at - 1;
  bool more = end < s.size() && is_digit(s[end]);
  return digits == 0 || more ? 0 : end;
}

}  // namespace

// The value of the count digits at s[at..], or -1 when one is not a digit or s is too short.
int number_at(std::string_view s, size_t at, size_t count) {
  if (at + count > s.size()) {
    return -1;
  }
  int value = 0;
  for (size_t k = at; k < at + count; ++k) {
    if (!is_digit(s[k])) {
      return -1;
    }
    value = value * 10 + (s[k] - '0');
  }
  return value;
}

// The length of an RFC 3339 timestamp at the start of s ("2026-11-29T21:39:19.123+00:00"), or 0.
size_t rfc3339_length(std::string_view s) {
  if (s.size() < 20) {  // "YYYY-MM-DDThh:mm:ssZ", the shortest
    return 0;
  }
  int month = number_at(s, 5, 2);
  int day = number_at(s, 8, 2);
  if (number_at(s, 0, 4) < 0 || s[4] != '-' || month < 1 || month > 12 || s[7] != '-' || day < 1 ||
      day > 31 || (s[10] != 'T' && s[10] != 't') || !time_at(s, 11)) {
    return 0;
  }
  size_t at = skip_fraction(s, 19);
  if (at == 0 || at >= s.size()) {
    return 0;
  }
  if (s[at] == 'Z' || s[at] == 'z') {
    return at + 1;
  }
  int hours = number_at(s, at + 1, 2);
  int minutes = number_at(s, at + 4, 2);
  // minutes first: when they are there, so is s[at + 3].
  if (minutes < 0 || minutes > 59 || hours < 0 || hours > 23 || s[at + 3] != ':' ||
      (s[at] != '+' && s[at] != '-')) {
    return 0;
  }
  return at + 6;
}

// The length of a BSD timestamp at the start of s ("Nov 29 21:39:19", "Nov  1 ...", "Nov 1 ...",
// "Nov 29 2026 21:39:19", each with optional fraction digits), or 0.
size_t bsd_timestamp_length(std::string_view s) {
  bool month = false;
  for (std::string_view name : kMonths) {
    month = month || s.substr(0, 3) == name;
  }
  if (!month || s.size() < 5 || s[3] != ' ') {
    return 0;
  }
  size_t at = s[4] == ' ' ? 5 : 4;
  int day = number_at(s, at, 2);
  if (day >= 0 && at == 4) {
    at += 2;
  } else {
    day = number_at(s, at, 1);
    at += 1;
  }
  if (day < 1 || day > 31 || at >= s.size() || s[at] != ' ') {
    return 0;
  }
  ++at;
  if (number_at(s, at, 4) >= 0 && at + 4 < s.size() && s[at + 4] == ' ') {
    at += 5;
  }
  if (at + 8 > s.size() || !time_at(s, at)) {
    return 0;
  }
  return skip_fraction(s, at + 8);
}

}  // namespace assas::collectors
