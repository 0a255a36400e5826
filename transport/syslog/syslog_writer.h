#pragma once

// Turns one decoded event into one RFC 5424 message for the syslog output (docs: output type
// syslog). Pure formatting: no framing (RFC 5425/6587 octet counting is the sender's job), no I/O.
// It runs once per event on the output's hot path, so it appends into the caller's buffer and
// allocates nothing else; every lookup is a linear scan over the event's few fields.
//
//   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [SP MSG]
//
// - Each header part comes from the first field of its list (event fields only, in list order)
//   that holds a usable value: a known facility or severity, an RFC 3339 timestamp, a non-empty
//   string. Otherwise it falls back to the format's setting (facility, severity, hostname,
//   app_name), then to the batch's host or the stream's collector name, then to NILVALUE "-".
//   Set a field list to [] to make the setting win.
// - Strings are cut to the RFC's lengths; bytes outside PRINTUSASCII (33..126) become '_'.
// - STRUCTURED-DATA: a valid `structured_data` field passed through (with the RFC's escapes
//   enforced), then our element [sd_id collector="" source="" <stream fields> <event fields>],
//   leaving out fields that went into the header, `structured_data`, `format`, `priority` and
//   `sd.*` (the collector's copies of what structured_data already holds). If the passed-through
//   SD already has an element with our SD-ID, the RFC forbids a second one and ours wins.
// - An event the syslog collector parsed as valid RFC 5424 (format=rfc5424, no parse_error) is
//   relayed as received, keeping the original sender's header and SD, unless relay_rfc5424 is off.
// - MSG: the message bytes unchanged (after the UTF-8 BOM when bom is on and they are UTF-8).

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "transport/protocol/batch_codec.h"

namespace assas::transport {

// How events become RFC 5424 headers. Field lists are tried in order; the first field present with
// a usable value wins. Plain data: check it once with validate_syslog_format, then share it
// read-only between threads.
struct SyslogFormat {
  int facility = 1;  // user, when no field gives one (0..23)
  int severity = 5;  // notice, when no field gives one (0..7)
  // A facility field holds a number 0..23 or a name as the syslog collector writes it (kern user
  // mail daemon auth syslog lpr news uucp cron authpriv ftp ntp security console solaris-cron
  // local0..local7), matched case-insensitively.
  std::vector<std::string> facility_fields = {"facility", "SYSLOG_FACILITY"};
  // A severity field holds a number 0..7 (journald's PRIORITY is one digit), an RFC name (emerg
  // alert crit err warning notice info debug), an alias (panic critical error warn) or one of
  // severity_names, matched case-insensitively.
  std::vector<std::string> severity_fields = {"severity", "PRIORITY"};
  // Extra severity names (lower-case keys, matched case-insensitively) beyond the RFC names and
  // numbers, e.g. {"warn",4},{"error",3},{"fatal",2}. They are tried before the built-in names.
  std::vector<std::pair<std::string, int>> severity_names;
  std::string hostname;  // empty: the batch's host
  std::vector<std::string> hostname_fields = {"hostname", "_HOSTNAME"};
  std::string app_name;  // empty: the stream's collector name
  std::vector<std::string> app_name_fields = {"appname", "SYSLOG_IDENTIFIER"};
  std::vector<std::string> procid_fields = {"procid", "_PID"};
  std::vector<std::string> msgid_fields = {"msgid"};
  // A value is used only when it is an RFC 5424 timestamp (RFC 3339, upper-case T and Z, 1..6
  // fraction digits, no leap second); the RFC 3164 text the syslog collector may hold in
  // `timestamp` ("Nov 30 00:47:34") is not. Without one: the read time, UTC, in microseconds.
  std::vector<std::string> timestamp_fields = {"timestamp", "origin_time"};
  std::string sd_id = "assas@32473";  // our SD element; empty: no element of ours
  bool bom = false;  // prefix MSG with the UTF-8 BOM when MSG is valid UTF-8 (RFC 5424 6.4)
  // Relay what the syslog collector received as valid RFC 5424 unchanged (see the file comment).
  bool relay_rfc5424 = true;
};

// A facility (number 0..23 or name) or severity (number 0..7, name, alias or one of
// format.severity_names) as the writer reads it from a field; -1 when it is none.
int syslog_facility_code(std::string_view value);
int syslog_severity_code(std::string_view value, const SyslogFormat& format);

// Appends one RFC 5424 message (no framing, no trailing newline) for event to out. Expects a
// format that validate_syslog_format accepted; never fails, whatever the event's bytes.
void write_syslog_message(const DecodedBatchHeader& batch, const DecodedEvent& event,
                          const SyslogFormat& format, std::string& out);

// Checks a format once, at configuration time: ranges, severity_names, the SD-ID's syntax (SD-NAME
// "@" digits, or a name without '@' as IANA registers them; 1..32 characters), the lengths and
// characters of hostname and app_name, no empty field names. The message names the key.
Status validate_syslog_format(const SyslogFormat& format);

}  // namespace assas::transport
