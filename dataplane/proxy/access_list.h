// Client address allow/deny lists (nginx whitelist-source-range / denylist-source-range),
// parsed once per snapshot, matched per request without allocation.
#pragma once

#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace keel::proxy {

class AccessList {
 public:
  // CIDRs like "10.0.0.0/8", "2001:db8::/32", or bare addresses.
  static Result<AccessList> Parse(const std::vector<std::string>& allow, const std::vector<std::string>& deny);
  bool empty() const { return allow_.empty() && deny_.empty(); }
  // Allowed when the allow-list is empty or matches, and the deny-list does not.
  bool Allows(std::string_view client_ip) const;

 private:
  struct Cidr {
    std::array<uint8_t, 16> addr{};  // IPv4 mapped into ::ffff:0:0/96
    int bits = 0;
  };
  static bool ParseCidr(std::string_view text, Cidr* out);
  static bool ToBytes(std::string_view ip, std::array<uint8_t, 16>* out);
  static bool Contains(const Cidr& c, const std::array<uint8_t, 16>& a);
  std::vector<Cidr> allow_, deny_;
};

}  // namespace keel::proxy
