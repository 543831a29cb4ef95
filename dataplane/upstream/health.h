// Passive health checking (outlier ejection) of one cluster on one worker: consecutive
// failures eject an endpoint for base × 2^(n-1), capped, never beyond a share of the
// cluster; balancers skip ejected endpoints (PickView::Usable).
#pragma once

#include <cstdint>
#include <span>

#include "dataplane/upstream/balancer.h"
#include "keel/config/v1/config.pb.h"

namespace keel::upstream {

class HealthTracker {
 public:
  // Unset fields take Envoy's outlier-detection defaults: base 30 s, max 300 s,
  // max_ejection_percent 10 (at least one endpoint may always be ejected, as Envoy does
  // since 1.23, or small clusters could never eject). consecutive_failures 0 disables.
  static constexpr uint32_t kDefaultBaseMs = 30000;
  static constexpr uint32_t kDefaultMaxMs = 300000;
  static constexpr uint32_t kDefaultMaxPercent = 10;

  explicit HealthTracker(const keel::config::v1::HealthSettings& settings);

  bool enabled() const { return threshold_ != 0; }
  bool count_5xx() const { return count_5xx_; }

  // A success resets the failure streak and the ejection back-off: "consecutive
  // ejections" are ejections with no success in between.
  void OnSuccess(EndpointState& s) const;
  // Counts a failure; ejects when the streak reaches the threshold and the cap allows.
  // `all` are the cluster's current endpoint states (for the max-percent cap). Returns
  // true if this failure ejected the endpoint.
  bool OnFailure(EndpointState& s, std::span<EndpointState* const> all, uint64_t now_ns) const;

  static bool Ejected(const EndpointState& s, uint64_t now_ns) { return s.ejected_until_ns > now_ns; }
  // Ejection length for the n-th consecutive ejection (n ≥ 1), in ns.
  uint64_t EjectionNs(uint32_t n) const;

 private:
  uint32_t threshold_;
  uint64_t base_ns_;
  uint64_t max_ns_;
  uint32_t max_percent_;
  bool count_5xx_;
};

}  // namespace keel::upstream
