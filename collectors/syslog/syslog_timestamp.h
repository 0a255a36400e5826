#pragma once

// The numbers and timestamps of syslog headers, read in place from hostile bytes: each returns 0
// (or -1) rather than read past the end of s.

#include <cstddef>
#include <string_view>

namespace assas::collectors {

// The value of the count digits at s[at..], or -1 when one is not a digit or s is too short.
int number_at(std::string_view s, size_t at, size_t count);

// The length of an RFC 3339 timestamp at the start of s ("2026-11-29T21:39:19.123+00:00"), or 0.
size_t rfc3339_length(std::string_view s);

// The length of a BSD timestamp at the start of s ("Nov 29 21:39:19", "Nov  1 ...", "Nov 1 ...",
// "Nov 29 2026 21:39:19", each with optional fraction digits), or 0.
size_t bsd_timestamp_length(std::string_view s);

}  // namespace assas::collectors
