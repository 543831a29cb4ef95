// EndpointSet construction: address parsing, the ready/terminating fallback, sticky values.
#include "dataplane/upstream/endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "dataplane/upstream/hash.h"

namespace keel::upstream {
namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string HexValue(uint64_t v) {
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i) {
    s[static_cast<size_t>(i)] = kHex[v & 0xF];
    v >>= 4;
  }
  return s;
}

}  // namespace

Status ParseEndpointAddress(std::string_view address, uint32_t port, Endpoint* ep) {
  if (port == 0 || port > 65535) {
    return Error{"endpoint " + std::string(address) + ": port " + std::to_string(port) + " out of range"};
  }
  // inet_pton wants a NUL-terminated string; literals are short.
  char buf[INET6_ADDRSTRLEN + 1];
  if (address.empty() || address.size() >= sizeof(buf)) {
    return Error{"endpoint address '" + std::string(address) + "' is not an IP literal"};
  }
  std::memcpy(buf, address.data(), address.size());
  buf[address.size()] = '\0';
  ep->addr = {};
  ep->port = static_cast<uint16_t>(port);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ep->addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ep->addr);
  if (inet_pton(AF_INET, buf, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(ep->port);
    ep->addr_len = sizeof(sockaddr_in);
    ep->key = std::string(address) + ":" + std::to_string(port);
    return Status::Ok();
  }
  if (inet_pton(AF_INET6, buf, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(ep->port);
    ep->addr_len = sizeof(sockaddr_in6);
    // Canonical text so "fd00:0::1" and "fd00::1" are the same endpoint.
    char canon[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &v6->sin6_addr, canon, sizeof(canon));
    ep->key = std::string("[") + canon + "]:" + std::to_string(port);
    return Status::Ok();
  }
  return Error{"endpoint address '" + std::string(address) + "' is not an IP literal"};
}

bool ParseStickyValue(std::string_view value, uint64_t* hash) {
  if (value.size() != 16) return false;
  uint64_t v = 0;
  for (char c : value) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return false;
    }
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  *hash = v;
  return true;
}

Result<std::shared_ptr<const EndpointSet>> EndpointSet::Build(const ProtoEndpoints& endpoints) {
  auto set = std::make_shared<EndpointSet>();
  set->endpoints_.reserve(static_cast<size_t>(endpoints.size()));
  for (const auto& pe : endpoints) {
    Endpoint ep;
    Status st = ParseEndpointAddress(pe.address(), pe.port(), &ep);
    if (!st.ok()) return Error{st.error()};
    ep.weight = pe.weight() == 0 ? 1 : pe.weight();
    ep.zone = pe.zone();
    ep.target = pe.target();
    ep.ready = pe.ready();
    ep.serving = pe.serving();
    ep.terminating = pe.terminating();
    ep.sticky_hash = Hash64(ep.key);
    ep.sticky_value = HexValue(ep.sticky_hash);
    set->endpoints_.push_back(std::move(ep));
  }
  set->by_sticky_.reserve(set->endpoints_.size());
  for (uint32_t i = 0; i < set->endpoints_.size(); ++i) {
    set->by_sticky_.emplace_back(set->endpoints_[i].sticky_hash, i);
  }
  std::sort(set->by_sticky_.begin(), set->by_sticky_.end());
  for (size_t i = 1; i < set->by_sticky_.size(); ++i) {
    if (set->by_sticky_[i].first == set->by_sticky_[i - 1].first) {
      const auto& a = set->endpoints_[set->by_sticky_[i].second];
      const auto& b = set->endpoints_[set->by_sticky_[i - 1].second];
      if (a.key == b.key) return Error{"duplicate endpoint " + a.key};
      // A 64-bit collision between distinct keys: astronomically rare; refuse rather
      // than send one endpoint's sessions to another.
      return Error{"sticky hash collision between " + a.key + " and " + b.key};
    }
  }

  const size_t n = set->endpoints_.size();
  set->routable_flag_.assign(n, 0);
  for (uint32_t i = 0; i < n; ++i) {
    if (set->endpoints_[i].ready) set->routable_.push_back(i);
  }
  if (set->routable_.empty()) {
    for (uint32_t i = 0; i < n; ++i) {
      const Endpoint& ep = set->endpoints_[i];
      if (ep.serving && ep.terminating) set->routable_.push_back(i);
    }
    set->using_fallback_ = !set->routable_.empty();
  }
  for (uint32_t i : set->routable_) {
    set->routable_flag_[i] = 1;
    set->routable_weight_ += set->endpoints_[i].weight;
    if (set->endpoints_[i].weight != set->endpoints_[set->routable_[0]].weight) set->uniform_weights_ = false;
  }
  return std::shared_ptr<const EndpointSet>(std::move(set));
}

int64_t EndpointSet::FindBySticky(uint64_t hash) const {
  auto it = std::lower_bound(by_sticky_.begin(), by_sticky_.end(), std::make_pair(hash, uint32_t{0}));
  if (it == by_sticky_.end() || it->first != hash) return -1;
  return it->second;
}

int64_t EndpointSet::FindByKey(std::string_view key) const {
  for (uint32_t i = 0; i < endpoints_.size(); ++i) {
    if (endpoints_[i].key == key) return i;
  }
  return -1;
}

}  // namespace keel::upstream
