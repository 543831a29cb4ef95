// Retry admission and back-off: a retry budget (Envoy's retry_budget: retries in flight
// may be at most a share of requests in flight, with a floor of 3 concurrent retries)
// and exponential back-off with full jitter (AWS Architecture Blog, "Exponential
// Backoff And Jitter": spreading retries uniformly avoids synchronised retry waves).
#pragma once

#include <cstdint>

#include "dataplane/upstream/hash.h"

namespace keel::upstream {

// Per worker, per cluster; the proxy brackets every attempt with Start/End calls.
class RetryBudget {
 public:
  static constexpr uint32_t kMinConcurrentRetries = 3;
  static constexpr uint32_t kDefaultPercent = 20;  // Envoy's default budget

  void OnRequestStart() { ++requests_; }
  void OnRequestEnd() { requests_ -= requests_ > 0 ? 1 : 0; }
  void OnRetryStart() { ++retries_; }
  void OnRetryEnd() { retries_ -= retries_ > 0 ? 1 : 0; }

  // May one more retry start now? Retries in flight must stay below
  // max(kMinConcurrentRetries, budget_percent% of requests in flight). The percent is
  // the route's RetryPolicy.budget_percent, else the cluster's; 0 means the default.
  bool AllowRetry(uint32_t budget_percent) const;

  uint32_t requests_in_flight() const { return requests_; }
  uint32_t retries_in_flight() const { return retries_; }

 private:
  uint32_t requests_ = 0;
  uint32_t retries_ = 0;
};

// Back-off before retry number `attempt` (1 = first retry): uniform in
// [0, min(max_ms, base_ms × 2^(attempt-1))]. base 0 → 25 ms, max 0 → 10 × base (Envoy).
uint64_t BackoffMs(uint32_t attempt, uint32_t base_ms, uint32_t max_ms, Rng& rng);

}  // namespace keel::upstream
