#pragma once

// Reads the header of one syslog message (RFC 5424, or the RFC 3164 "BSD" format and what real
// devices send under that name) into fields. The message is hostile network input: the parser
// reads only inside it, allocates only for values it must rewrite (bounded by the message size
// and kMaxSdFields), never throws and never fails: what it cannot read is reported as a
// parse_error field next to whatever it read before the problem. It never alters the message;
// the caller keeps the original bytes as the event's message, so the MSG part is not a field.
//
// Fields (all values are text):
//   format           rfc5424 | rfc3164
//   priority         the PRI, 0..191, in decimal without leading zeros
//   facility         kern user mail daemon auth syslog lpr news uucp cron authpriv ftp ntp
//                    security console solaris-cron local0..local7 (RFC 5424 table 1, by PRI / 8)
//   severity         emerg alert crit err warning notice info debug (by PRI % 8)
//   timestamp        as sent (not converted); omitted when absent or "-"
//   hostname, appname, procid, msgid
//                    omitted when absent or "-"; for RFC 3164, appname and procid are the TAG
//                    and the PID of "TAG[PID]:"
//   structured_data  RFC 5424 only: the raw SD text, when not "-"
//   sd.<SD-ID>.<PARAM-NAME>
//                    each SD param, with the escapes \" \\ \] undone (a backslash before any
//                    other character is kept, as RFC 5424 section 6.3.3 says). The first of
//                    several params with the same name wins (structured_data keeps them all);
//                    params past the first kMaxSdFields are only in structured_data.
//   parse_error      a short reason; always the last field. Present only when the message has no
//                    valid <PRI>, an RFC 5424 version other than 1, or an RFC 5424 header or SD
//                    that breaks the grammar.
//
// Rules:
// - Before <PRI>, a UTF-8 BOM and then any SP, HT, CR, LF and NUL bytes are skipped: some senders
//   put the trailer of their previous message (CRLF, NUL) or a BOM in front. Nothing else is.
// - <PRI> is '<', 1 to 3 digits (leading zeros allowed), '>', with a value of at most 191.
//   Without one the message gets only parse_error, whose format is "".
// - RFC 5424 is recognised by 1 to 3 digits after <PRI> (not starting with 0) followed by SP or
//   the end. A version other than 1 gives priority, facility, severity and parse_error, no format.
// - RFC 5424 follows the grammar: single SPs, TIMESTAMP "-" or RFC 3339 (1 to 9 fraction digits
//   accepted), HOSTNAME <= 255, APP-NAME <= 48, PROCID <= 128, MSGID <= 32 printable ASCII
//   characters, SD-IDs and PARAM-NAMEs <= 32. A message that ends right after MSGID (no SD) is
//   accepted. On an error the fields read before it are kept, sd.* params included;
//   structured_data is then omitted.
// - Anything else after <PRI> is RFC 3164 and never an error; what cannot be recognised is left
//   out. The timestamp is "Mmm dd hh:mm:ss" (day space-padded or not), with optional fraction
//   digits and an optional year before the time ("Nov 29 2026 21:39:19", Cisco ASA), or an RFC
//   3339 one (rsyslog's forward format). Cisco's "<seq>: " (up to 10 digits) right after <PRI>
//   is skipped, and so are '*' or '.' in front of a BSD timestamp and a ':' right after it. After
//   the timestamp, a token that ends with ':' or contains '[' is the TAG (no hostname was sent),
//   any other is the HOSTNAME and the token after it may be the TAG. Without a timestamp, only a
//   TAG is looked for, first. A TAG is "name:", "name[pid]:" or "name[pid]", name up to 48 and pid
//   up to 128 printable characters; anything longer or different is no TAG (and no appname).

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "agent/event.h"

namespace assas::collectors {

// At most this many sd.* fields per message: bounds the work and memory a hostile message with
// thousands of tiny params can cause (duplicate names are checked pairwise).
inline constexpr size_t kMaxSdFields = 128;

// The fields of one parsed message. The views point into the message (which must outlive this),
// into owned, or into static strings. Moving keeps them valid (a deque's elements stay where
// they are); copying would not, so it is deleted.
struct SyslogParse {
  std::vector<agent::FieldView> fields;
  std::string_view format;  // "rfc5424", "rfc3164", or "" when unparsed
  // Values that are not substrings of the message (unescaped SD values, sd.* names). A deque so
  // that adding one never moves the others.
  std::deque<std::string> owned;

  SyslogParse() = default;
  SyslogParse(const SyslogParse&) = delete;
  SyslogParse& operator=(const SyslogParse&) = delete;
  SyslogParse(SyslogParse&&) = default;
  SyslogParse& operator=(SyslogParse&&) = default;
  ~SyslogParse() = default;

  // No parse_error field.
  bool ok() const { return fields.empty() || fields.back().first != "parse_error"; }
  void clear();
};

// Parses one message as framed (without its trailing LF) into out, which is cleared first.
void parse_syslog(std::string_view message, SyslogParse& out);

}  // namespace assas::collectors
