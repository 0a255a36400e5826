// The sender allow-list: IPv4 and IPv6 prefixes, IPv4-mapped senders, and errors that say what
// to write instead.

#include "collectors/syslog/network_list.h"

#include <cstring>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <catch2/catch.hpp>

namespace assas::collectors {
namespace {

NetworkList parsed(const std::vector<std::string>& entries) {
  Result<NetworkList> list = NetworkList::parse(entries);
  REQUIRE(list.status().message() == "");
  return std::move(list).value();
}

std::string error_of(const std::string& entry) {
  Result<NetworkList> list = NetworkList::parse({"10.0.0.0/8", entry});
  REQUIRE_FALSE(list.is_ok());
  REQUIRE(list.status().code() == StatusCode::kInvalidArgument);
  return list.status().message();
}

// A sender address as accept() or recvfrom() fills it in.
sockaddr_storage address(const std::string& text) {
  sockaddr_storage storage;
  std::memset(&storage, 0, sizeof(storage));
  if (text.find(':') == std::string::npos) {
    auto* in4 = reinterpret_cast<sockaddr_in*>(&storage);
    in4->sin_family = AF_INET;
    in4->sin_port = htons(514);
    REQUIRE(inet_pton(AF_INET, text.c_str(), &in4->sin_addr) == 1);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(514);
    REQUIRE(inet_pton(AF_INET6, text.c_str(), &in6->sin6_addr) == 1);
  }
  return storage;
}

bool contains(const NetworkList& list, const std::string& text) {
  sockaddr_storage storage = address(text);
  return list.contains(reinterpret_cast<const sockaddr*>(&storage));
}

}  // namespace

TEST_CASE("IPv4 networks and single addresses match what they cover", "[syslog][networks]") {
  NetworkList list = parsed({"10.0.0.0/8", "192.168.1.7", "172.16.0.0/12", "192.0.2.128/25"});
  REQUIRE(list.size() == 4);
  for (std::string in :
       {"10.0.0.0", "10.255.255.255", "192.168.1.7", "172.31.1.1", "192.0.2.128", "192.0.2.255"}) {
    CAPTURE(in);
    REQUIRE(contains(list, in));
  }
  for (std::string out :
       {"11.0.0.1", "9.255.255.255", "192.168.1.6", "192.168.1.8", "172.32.0.0", "192.0.2.127"}) {
    CAPTURE(out);
    REQUIRE_FALSE(contains(list, out));
  }
}

TEST_CASE("IPv6 networks and single addresses match what they cover", "[syslog][networks]") {
  NetworkList list = parsed({"::1", "2001:db8::/32", "fd00:1:2:2::/63"});
  for (std::string in :
       {"::1", "2001:db8::", "2001:db8:ffff:ffff::1", "fd00:1:2:2::5", "fd00:1:2:3:ffff::"}) {
    CAPTURE(in);
    REQUIRE(contains(list, in));
  }
  for (std::string out :
       {"::2", "2001:db9::", "2001:db7:ffff::", "fd00:1:2:4::", "fd00:1:2:1::", "fe80::1"}) {
    CAPTURE(out);
    REQUIRE_FALSE(contains(list, out));
  }
}

TEST_CASE("an IPv4-mapped IPv6 sender matches IPv4 entries", "[syslog][networks]") {
  NetworkList list = parsed({"10.0.0.0/8", "2001:db8::/32"});
  REQUIRE(contains(list, "::ffff:10.1.2.3"));
  REQUIRE_FALSE(contains(list, "::ffff:11.1.2.3"));
  // An IPv4-compatible address (::a.b.c.d, deprecated) is not a mapped one.
  REQUIRE_FALSE(contains(list, "::10.1.2.3"));
}

TEST_CASE("an entry written as an IPv4-mapped network matches IPv4 senders", "[syslog][networks]") {
  NetworkList list = parsed({"::ffff:10.0.0.0/104", "::ffff:192.168.1.7"});
  REQUIRE(contains(list, "10.9.8.7"));
  REQUIRE(contains(list, "::ffff:10.9.8.7"));
  REQUIRE(contains(list, "192.168.1.7"));
  REQUIRE_FALSE(contains(list, "192.168.1.8"));
  REQUIRE_FALSE(contains(list, "11.0.0.0"));
}

TEST_CASE("IPv4 entries never match IPv6 senders and the reverse", "[syslog][networks]") {
  NetworkList v4 = parsed({"0.0.0.0/0"});
  REQUIRE(contains(v4, "1.2.3.4"));
  REQUIRE_FALSE(contains(v4, "2001:db8::1"));
  REQUIRE_FALSE(contains(v4, "::"));
  NetworkList v6 = parsed({"::/0"});
  REQUIRE(contains(v6, "2001:db8::1"));
  REQUIRE(contains(v6, "::"));
  REQUIRE_FALSE(contains(v6, "1.2.3.4"));
  REQUIRE_FALSE(contains(v6, "::ffff:1.2.3.4"));  // a mapped sender is an IPv4 one
}

TEST_CASE("an empty list contains nothing and odd addresses are not contained",
          "[syslog][networks]") {
  NetworkList empty = parsed({});
  REQUIRE(empty.empty());
  REQUIRE_FALSE(contains(empty, "127.0.0.1"));
  NetworkList all = parsed({"0.0.0.0/0", "::/0"});
  REQUIRE_FALSE(all.empty());
  REQUIRE_FALSE(all.contains(nullptr));
  sockaddr_un local;
  std::memset(&local, 0, sizeof(local));
  local.sun_family = AF_UNIX;
  REQUIRE_FALSE(all.contains(reinterpret_cast<const sockaddr*>(&local)));
}

TEST_CASE("bad entries name the entry and the fix", "[syslog][networks]") {
  const std::string address_fix =
      " is not a network: write an IPv4 or IPv6 address, optionally with a prefix length, as in "
      "192.168.1.7, 10.0.0.0/8, ::1 or 2001:db8::/32";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"10.0.0.0/33", "'10.0.0.0/33' is not a network: an IPv4 prefix length is 0..32"},
      {"10.0.0.0/", "'10.0.0.0/' is not a network: an IPv4 prefix length is 0..32"},
      {"10.0.0.0/-1", "'10.0.0.0/-1' is not a network: an IPv4 prefix length is 0..32"},
      {"10.0.0.0/+8", "'10.0.0.0/+8' is not a network: an IPv4 prefix length is 0..32"},
      {"10.0.0.0/8x", "'10.0.0.0/8x' is not a network: an IPv4 prefix length is 0..32"},
      {"10.0.0.0/8/8", "'10.0.0.0/8/8' is not a network: an IPv4 prefix length is 0..32"},
      {"10.0.0.0/99999999999",
       "'10.0.0.0/99999999999' is not a network: an IPv4 prefix length "
       "is 0..32"},
      {"::/129", "'::/129' is not a network: an IPv6 prefix length is 0..128"},
      {"10.1.2.3/8",
       "'10.1.2.3/8' is not a network: it has host bits set under the prefix; write 10.0.0.0/8"},
      {"192.168.1.7/24",
       "'192.168.1.7/24' is not a network: it has host bits set under the "
       "prefix; write 192.168.1.0/24"},
      {"2001:db8::1/32",
       "'2001:db8::1/32' is not a network: it has host bits set under the "
       "prefix; write 2001:db8::/32"},
      {"0.0.0.1/0",
       "'0.0.0.1/0' is not a network: it has host bits set under the prefix; write 0.0.0.0/0"},
      {"", "''" + address_fix},
      {"localhost", "'localhost'" + address_fix},
      {"10.0.0", "'10.0.0'" + address_fix},
      {"10.0.0.256", "'10.0.0.256'" + address_fix},
      {" 10.0.0.1", "' 10.0.0.1'" + address_fix},
      {"fe80::1%eth0", "'fe80::1%eth0'" + address_fix},
      {"/8", "'/8'" + address_fix},
      {std::string("10.0.0.1\0x", 10), std::string("'10.0.0.1\0x'", 12) + address_fix},
  };
  for (const auto& [entry, message] : cases) {
    CAPTURE(entry);
    REQUIRE(error_of(entry) == message);
  }
}

}  // namespace assas::collectors
