// HealthTracker: ejection decisions and back-off arithmetic.
#include "dataplane/upstream/health.h"

#include <algorithm>

#include "common/metrics/metrics.h"

namespace keel::upstream {

HealthTracker::HealthTracker(const keel::config::v1::HealthSettings& settings)
    : threshold_(settings.consecutive_failures()),
      base_ns_(uint64_t{settings.base_ejection_ms() == 0 ? kDefaultBaseMs : settings.base_ejection_ms()} *
               1000000),
      max_ns_(uint64_t{settings.max_ejection_ms() == 0 ? kDefaultMaxMs : settings.max_ejection_ms()} *
              1000000),
      max_percent_(settings.max_ejection_percent() == 0 ? kDefaultMaxPercent
                                                        : std::min(settings.max_ejection_percent(), 100u)),
      count_5xx_(settings.eject_on_5xx()) {
  max_ns_ = std::max(max_ns_, base_ns_);
}

void HealthTracker::OnSuccess(EndpointState& s) const {
  s.consecutive_failures = 0;
  s.ejections = 0;
}

uint64_t HealthTracker::EjectionNs(uint32_t n) const {
  if (n == 0) n = 1;
  // base × 2^(n-1) without overflow: stop doubling once past the cap.
  uint64_t d = base_ns_;
  for (uint32_t i = 1; i < n && d < max_ns_; ++i) d *= 2;
  return std::min(d, max_ns_);
}

bool HealthTracker::OnFailure(EndpointState& s, std::span<EndpointState* const> all, uint64_t now_ns) const {
  if (threshold_ == 0 || s.removed) return false;
  if (Ejected(s, now_ns)) return false;  // in-flight requests finishing after ejection
  if (++s.consecutive_failures < threshold_) return false;
  size_t ejected = 0;
  for (const EndpointState* o : all) ejected += Ejected(*o, now_ns) ? 1 : 0;
  const size_t cap = std::max<size_t>(1, all.size() * max_percent_ / 100);
  if (ejected + 1 > cap) return false;  // streak kept: ejects as soon as room frees up
  s.consecutive_failures = 0;
  ++s.ejections;
  s.ejected_until_ns = now_ns + EjectionNs(s.ejections);
  static const metrics::Counter ejections = metrics::Registry::Default().AddCounter(
      "keel_upstream_ejections_total", "Endpoints ejected by passive health checking (outlier detection)");
  ejections.Inc();
  return true;
}

}  // namespace keel::upstream
