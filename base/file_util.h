#pragma once

// Blocking POSIX file helpers. They block: call them from a worker thread, the libuv pool, or at
// start-up before the loop runs, never from a loop callback.

#include <cstddef>
#include <string>
#include <string_view>

#include <sys/types.h>

#include "base/status.h"

namespace assas {

// Writes all of data, looping on short writes and EINTR.
Status write_all(int fd, std::string_view data, std::string_view what);
// pwrite variant of write_all.
Status pwrite_all(int fd, std::string_view data, off_t offset, std::string_view what);
// Reads a whole file, refusing one larger than max_bytes.
Result<std::string> read_file(const std::string& path, size_t max_bytes);
// Creates dir and its missing parents; dir itself gets mode 0700 and, if it exists with wider
// permissions, is tightened to 0700 (state directories hold what the SOC must be able to trust).
Status ensure_private_dir(const std::string& dir);
// fsync of a directory, so that a create, rename or unlink inside it is durable.
Status fsync_dir(const std::string& dir);
// Replaces path with data atomically and durably: write path.tmp (0600), fsync, rename, fsync dir.
// With durable false, no fsync: readers still never see a half-written file, but a crash may
// leave the old one (for files that are rewritten often and matter only while running).
Status atomic_write_file(const std::string& path, std::string_view data, bool durable = true);
// The directory part of a path ("." when there is none).
std::string dir_name(const std::string& path);

}  // namespace assas
