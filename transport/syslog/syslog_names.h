#pragma once

// RFC 5424 table 1 and 2: the facility and severity names, as the syslog collector writes them in
// its fields and the syslog output reads them back, so that a message relayed through the agent
// keeps its facility and severity.

#include <array>
#include <string_view>

namespace assas::transport {

inline constexpr std::array<std::string_view, 24> kSyslogFacilityNames = {
    "kern",   "user",   "mail",     "daemon", "auth",   "syslog",   "lpr",     "news",
    "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "security", "console", "solaris-cron",
    "local0", "local1", "local2",   "local3", "local4", "local5",   "local6",  "local7"};
inline constexpr std::array<std::string_view, 8> kSyslogSeverityNames = {
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};

}  // namespace assas::transport
