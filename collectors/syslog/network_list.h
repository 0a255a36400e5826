#pragma once

// The networks a syslog listener accepts senders from: IPv4 and IPv6 addresses and prefixes
// ("10.0.0.0/8", "192.168.1.7" = /32, "::1" = /128, "2001:db8::/32"). IPv4 senders that reach an
// IPv6 socket arrive as IPv4-mapped addresses (::ffff:a.b.c.d); they are matched as the IPv4
// address they are, and an entry written in that form (::ffff:10.0.0.0/104) is kept as the IPv4
// network it names, so both spellings match both kinds of socket. Any other IPv6 entry (::/0
// included) matches IPv6 senders only. Immutable once parsed; any thread. contains() is a linear
// scan: the lists are short.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <sys/socket.h>

#include "base/status.h"

namespace assas::collectors {

class NetworkList {
 public:
  // An empty list. What empty means (allow all, or none) is the caller's decision.
  NetworkList() = default;

  // InvalidArgument naming the entry and the fix, e.g. "'10.0.0.0/33' is not a network: an IPv4
  // prefix length is 0..32", or "'10.1.2.3/8' is not a network: it has host bits set under the
  // prefix; write 10.0.0.0/8".
  static Result<NetworkList> parse(const std::vector<std::string>& entries);

  bool empty() const { return networks_.empty(); }
  size_t size() const { return networks_.size(); }
  // Whether address (AF_INET or AF_INET6; any other family, or nullptr, is not contained) is in
  // one of the networks. address must point to a whole sockaddr_in or sockaddr_in6.
  bool contains(const sockaddr* address) const;

 private:
  struct Network {
    bool ipv6 = false;
    std::array<uint8_t, 16> bytes = {};  // IPv4 in the first 4
    unsigned prefix = 0;
  };

  std::vector<Network> networks_;
};

}  // namespace assas::collectors
