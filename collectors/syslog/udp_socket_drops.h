#pragma once

// Datagrams the kernel dropped on a UDP socket because its receive buffer was full: the drops no
// user-space reader can see. Linux counts them per socket in /proc/net/udp and /proc/net/udp6 (the
// last column, by the socket's inode), which is what this reads.

#include <cstdint>
#include <optional>

namespace assas::collectors {

// The count for the UDP socket fd since it was created; nullopt if it cannot be read.
std::optional<uint64_t> udp_socket_drops(int fd);

}  // namespace assas::collectors
