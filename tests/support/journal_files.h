#pragma once

// Real systemd journal files for tests, made without a running journald: entries are written in
// the journal export format (https://systemd.io/JOURNAL_EXPORT_FORMATS/) and piped into
// systemd-journal-remote, which writes them as a .journal file. Values may be any bytes (the
// export format's binary form carries them). Writing a second file into a directory is how a
// rotation looks to a reader of the directory.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace assas::test {

// Where the Debian package systemd-journal-remote puts it.
inline constexpr const char* kJournalRemote = "/lib/systemd/systemd-journal-remote";

struct JournalTestEntry {
  uint64_t realtime_usec = 0;  // __REALTIME_TIMESTAMP; 0: now, one microsecond per entry
  std::vector<std::pair<std::string, std::string>> fields;  // e.g. {"MESSAGE", "..."}
};

// Entries "<tag>#<n> event <n> from the journal" for n in [first, first + count), each with
// SYSLOG_IDENTIFIER (sshd, sudo, kernel by n % 3), PRIORITY (n % 8), _PID (1000 + n % 97),
// _UID 0, _COMM, _EXE, _SYSTEMD_UNIT (<identifier>.service), _HOSTNAME gw-07 and a fixed _BOOT_ID,
// and realtime timestamps base_usec + n (0: about now).
std::vector<JournalTestEntry> numbered_journal_entries(const std::string& tag, int first, int count,
                                                       uint64_t base_usec = 0);

// Writes entries to path (which must end in ".journal"; an existing file is appended to). Throws
// std::runtime_error if systemd-journal-remote fails.
void write_journal_file(const std::string& path, const std::vector<JournalTestEntry>& entries);

// The export-format bytes of entries (exposed for tests of this helper).
std::string journal_export_text(const std::vector<JournalTestEntry>& entries);

// Whether systemd-journal-remote is installed.
bool journal_remote_available();

}  // namespace assas::test
