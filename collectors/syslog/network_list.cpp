#include "collectors/syslog/network_list.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string_view>

#include <arpa/inet.h>
#include <netinet/in.h>

namespace assas::collectors {
namespace {

constexpr std::array<uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool is_mapped(const uint8_t* bytes) {
  return std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), bytes);
}

// Whether the first prefix bits of a and b are equal.
bool same_prefix(const uint8_t* a, const uint8_t* b, unsigned prefix) {
  unsigned whole = prefix / 8;
  if (std::memcmp(a, b, whole) != 0) {
    return false;
  }
  unsigned bits = prefix % 8;
  if (bits == 0) {
    return true;
  }
  auto mask = static_cast<uint8_t>(0xff << (8 - bits));
  return (a[whole] & mask) == (b[whole] & mask);
}

// Whether any bit after the first prefix ones is set.
bool host_bits_set(const uint8_t* bytes, size_t size, unsigned prefix) {
  for (size_t bit = prefix; bit < size * 8; ++bit) {
    if ((bytes[bit / 8] >> (7 - bit % 8)) & 1) {
      return true;
    }
  }
  return false;
}

void clear_host_bits(uint8_t* bytes, size_t size, unsigned prefix) {
  for (size_t bit = prefix; bit < size * 8; ++bit) {
    bytes[bit / 8] = static_cast<uint8_t>(bytes[bit / 8] & ~(1u << (7 - bit % 8)));
  }
}

Status not_a_network(const std::string& entry, std::string_view fix) {
  return invalid_argument("'" + entry + "' is not a network: " + std::string(fix));
}

}  // namespace

Result<NetworkList> NetworkList::parse(const std::vector<std::string>& entries) {
  NetworkList list;
  for (const std::string& entry : entries) {
    std::string_view text = entry;
    size_t slash = text.find('/');
    std::string address(text.substr(0, slash));
    Network network;
    network.ipv6 = address.find(':') != std::string::npos;
    // inet_pton stops at a NUL: "10.0.0.1\0junk" must not pass as 10.0.0.1.
    bool has_nul = address.find('\0') != std::string::npos;
    if (has_nul ||
        inet_pton(network.ipv6 ? AF_INET6 : AF_INET, address.c_str(), network.bytes.data()) != 1) {
      return not_a_network(entry,
                           "write an IPv4 or IPv6 address, optionally with a prefix length, as in "
                           "192.168.1.7, 10.0.0.0/8, ::1 or 2001:db8::/32");
    }
    unsigned max_prefix = network.ipv6 ? 128 : 32;
    network.prefix = max_prefix;
    if (slash != std::string_view::npos) {
      std::string_view digits = text.substr(slash + 1);
      unsigned prefix = 0;
      auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
      if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
          prefix > max_prefix) {
        return not_a_network(entry, network.ipv6 ? "an IPv6 prefix length is 0..128"
                                                 : "an IPv4 prefix length is 0..32");
      }
      network.prefix = prefix;
    }
    size_t size = network.ipv6 ? 16 : 4;
    if (host_bits_set(network.bytes.data(), size, network.prefix)) {
      Network fixed = network;
      clear_host_bits(fixed.bytes.data(), size, fixed.prefix);
      char written[INET6_ADDRSTRLEN] = {};
      inet_ntop(fixed.ipv6 ? AF_INET6 : AF_INET, fixed.bytes.data(), written, sizeof(written));
      return not_a_network(entry, "it has host bits set under the prefix; write " +
                                      std::string(written) + "/" + std::to_string(fixed.prefix));
    }
    if (network.ipv6 && network.prefix >= 96 && is_mapped(network.bytes.data())) {
      // ::ffff:a.b.c.d/n is the IPv4 network a.b.c.d/(n - 96): kept as such, so that it matches
      // senders on IPv4 sockets too.
      std::memmove(network.bytes.data(), network.bytes.data() + 12, 4);
      std::fill(network.bytes.begin() + 4, network.bytes.end(), 0);
      network.ipv6 = false;
      network.prefix -= 96;
    }
    list.networks_.push_back(network);
  }
  return list;
}

bool NetworkList::contains(const sockaddr* address) const {
  if (address == nullptr) {
    return false;
  }
  std::array<uint8_t, 16> bytes = {};
  bool ipv6 = false;
  if (address->sa_family == AF_INET) {
    const auto* in4 = reinterpret_cast<const sockaddr_in*>(address);
    std::memcpy(bytes.data(), &in4->sin_addr, 4);
  } else if (address->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    std::memcpy(bytes.data(), &in6->sin6_addr, 16);
    ipv6 = !is_mapped(bytes.data());
    if (!ipv6) {
      std::memmove(bytes.data(), bytes.data() + 12, 4);
    }
  } else {
    return false;
  }
  for (const Network& network : networks_) {
    if (network.ipv6 == ipv6 && same_prefix(bytes.data(), network.bytes.data(), network.prefix)) {
      return true;
    }
  }
  return false;
}

}  // namespace assas::collectors
