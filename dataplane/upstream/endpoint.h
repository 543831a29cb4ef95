// Endpoints of one cluster as the dataplane uses them: parsed once when a snapshot or
// delta arrives (addresses ready for connect(2), sticky values, the routable subset),
// then shared read-only by every worker.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "keel/config/v1/config.pb.h"

namespace keel::upstream {

struct Endpoint {
  sockaddr_storage addr{};  // AF_INET or AF_INET6, port filled in
  socklen_t addr_len = 0;
  uint16_t port = 0;
  uint32_t weight = 1;
  // "10.0.0.1:8080" or "[fd00::1]:8080": the identity that survives endpoint updates.
  std::string key;
  std::string zone;
  std::string target;  // pod name, for logs
  bool ready = false;
  bool serving = false;
  bool terminating = false;
  // Value of the sticky-session cookie that names this endpoint: 16 hex digits of
  // Hash64(key). Stable across snapshots and replicas; reveals no pod address.
  std::string sticky_value;
  uint64_t sticky_hash = 0;
};

// An immutable, validated endpoint list. Index order is the proto's order (sorted by
// address, port), and indices are what balancers return.
class EndpointSet {
 public:
  using ProtoEndpoints = google::protobuf::RepeatedPtrField<keel::config::v1::Endpoint>;

  // Fails on an unparsable address, port 0 or > 65535, or a duplicate address:port.
  // Weight 0 is read as 1 (the proto says ≥ 1; an unset field must not starve a pod).
  static Result<std::shared_ptr<const EndpointSet>> Build(const ProtoEndpoints& endpoints);

  const std::vector<Endpoint>& endpoints() const { return endpoints_; }
  size_t size() const { return endpoints_.size(); }
  const Endpoint& operator[](uint32_t i) const { return endpoints_[i]; }

  // Endpoints that take new requests: the ready ones; when none is ready, the serving
  // and terminating ones (kube-proxy's fallback, KEP-1669). Empty: answer 503.
  std::span<const uint32_t> routable() const { return routable_; }
  bool is_routable(uint32_t i) const { return routable_flag_[i] != 0; }
  // True when `routable()` is the terminating fallback.
  bool using_fallback() const { return using_fallback_; }
  // Sum of routable weights and whether they are all equal (balancer fast paths).
  uint64_t routable_weight() const { return routable_weight_; }
  bool uniform_weights() const { return uniform_weights_; }

  // Index of the endpoint whose sticky_hash is `hash`, or -1. No allocation.
  int64_t FindBySticky(uint64_t hash) const;
  // Index of the endpoint with this key, or -1 (linear; off the hot path only).
  int64_t FindByKey(std::string_view key) const;

 private:
  std::vector<Endpoint> endpoints_;
  std::vector<uint32_t> routable_;
  std::vector<uint8_t> routable_flag_;
  std::vector<std::pair<uint64_t, uint32_t>> by_sticky_;  // sorted by hash
  uint64_t routable_weight_ = 0;
  bool uniform_weights_ = true;
  bool using_fallback_ = false;
};

// Parses an IPv4/IPv6 literal and port into `ep` (addr, addr_len, port, key).
Status ParseEndpointAddress(std::string_view address, uint32_t port, Endpoint* ep);

// Parses a sticky cookie value (16 hex digits); false if malformed.
bool ParseStickyValue(std::string_view value, uint64_t* hash);

}  // namespace keel::upstream
