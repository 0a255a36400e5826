#pragma once

// Blocking helpers for the store's data files (ingest/agent_store.h): opening one with its
// committed size, and what the store must work out from the files when a state file of an older
// format does not say it.

#include <cstdint>
#include <string>

#include "base/status.h"

namespace assas::ingest {

// Opens path for reading and writing: created 0600, never through a symlink.
Result<int> open_private_file(const std::string& path);

// Opens path for reading and writing (created 0600; never through a symlink) and cuts it back to
// committed bytes: what lies past them was written but never committed. A file shorter than
// committed is kCorruption (committed data is missing). what names the file in messages.
Result<int> open_committed_file(const std::string& path, uint64_t committed, const char* what);

// The number of '\n' in the first size bytes of fd.
Result<uint64_t> count_lines(int fd, uint64_t size, const std::string& path);

// The offset just past the last '\n' in the first size bytes of fd (0 if none).
Result<uint64_t> last_line_end(int fd, uint64_t size, const std::string& path);

// The size of fd.
Result<uint64_t> file_size_of(int fd, const std::string& path);

}  // namespace assas::ingest
