#pragma once

// The journal reader: the child process `assas-agent --journal-reader ...` that the journal
// collector starts. It reads the journal with sd-journal and writes frames (journal_wire.h) to its
// stdout, a pipe the agent reads.
//
// Why a process of its own: sd-journal maps the journal files into memory, and a file truncated
// under the reader (a full disk, a careless vacuum, a broken copy) turns the next access into
// SIGBUS. libsystemd installs no handler for it outside journald, so in the agent it would kill the
// whole process, its buffer and every other collector with it. In a child it kills only the child,
// which the collector restarts from the last cursor it received.
//
// Flow control is the pipe: write() blocks while the pipe is full, and the agent stops reading it
// while its pipeline is paused. At the end of the journal the child waits in poll() on
// sd_journal_get_fd() (inotify on the journal directories) with sd_journal_get_timeout(), then
// sd_journal_process(): no thread, no sleeping loop. It exits with 0 as soon as the agent is gone
// (EPIPE, the pipe hung up, or PR_SET_PDEATHSIG), and with 1 after an ERROR frame.

#include <string>
#include <vector>

namespace assas::collectors {

// The child's main: args are what follows "--journal-reader". Returns the exit code.
int run_journal_reader(const std::vector<std::string>& args);

}  // namespace assas::collectors
