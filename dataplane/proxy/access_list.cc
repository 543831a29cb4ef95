#include "dataplane/proxy/access_list.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace keel::proxy {

bool AccessList::ToBytes(std::string_view ip, std::array<uint8_t, 16>* out) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (ip.size() >= sizeof buf) return false;
  std::memcpy(buf, ip.data(), ip.size());
  buf[ip.size()] = 0;
  in_addr v4;
  if (inet_pton(AF_INET, buf, &v4) == 1) {
    out->fill(0);
    (*out)[10] = (*out)[11] = 0xff;
    std::memcpy(out->data() + 12, &v4, 4);
    return true;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, buf, &v6) == 1) {
    std::memcpy(out->data(), &v6, 16);
    return true;
  }
  return false;
}

bool AccessList::ParseCidr(std::string_view text, Cidr* out) {
  auto slash = text.find('/');
  std::string_view ip = text.substr(0, slash);
  if (!ToBytes(ip, &out->addr)) return false;
  bool v4 = ip.find(':') == std::string_view::npos;
  int max = v4 ? 32 : 128;
  int bits = max;
  if (slash != std::string_view::npos) {
    std::string_view b = text.substr(slash + 1);
    auto [p, ec] = std::from_chars(b.data(), b.data() + b.size(), bits);
    if (ec != std::errc() || p != b.data() + b.size() || bits < 0 || bits > max) return false;
  }
  out->bits = v4 ? bits + 96 : bits;
  return true;
}

bool AccessList::Contains(const Cidr& c, const std::array<uint8_t, 16>& a) {
  int full = c.bits / 8, rest = c.bits % 8;
  if (std::memcmp(c.addr.data(), a.data(), static_cast<size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (c.addr[full] & mask) == (a[full] & mask);
}

Result<AccessList> AccessList::Parse(const std::vector<std::string>& allow, const std::vector<std::string>& deny) {
  AccessList list;
  for (const auto& [src, dst] : {std::pair{&allow, &list.allow_}, std::pair{&deny, &list.deny_}}) {
    for (const auto& text : *src) {
      Cidr c;
      if (!ParseCidr(text, &c)) return Error{"invalid CIDR '" + text + "'"};
      dst->push_back(c);
    }
  }
  return list;
}

bool AccessList::Allows(std::string_view client_ip) const {
  std::array<uint8_t, 16> a;
  if (!ToBytes(client_ip, &a)) return allow_.empty();
  if (!allow_.empty()) {
    bool any = false;
    for (const auto& c : allow_) any = any || Contains(c, a);
    if (!any) return false;
  }
  for (const auto& c : deny_) {
    if (Contains(c, a)) return false;
  }
  return true;
}

}  // namespace keel::proxy
