// RetryBudget and full-jitter back-off.
#include "dataplane/upstream/retry.h"

#include <algorithm>

namespace keel::upstream {

bool RetryBudget::AllowRetry(uint32_t budget_percent) const {
  const uint64_t percent = budget_percent == 0 ? kDefaultPercent : std::min(budget_percent, 100u);
  const uint64_t budget = std::max<uint64_t>(kMinConcurrentRetries, uint64_t{requests_} * percent / 100);
  return retries_ < budget;
}

uint64_t BackoffMs(uint32_t attempt, uint32_t base_ms, uint32_t max_ms, Rng& rng) {
  const uint64_t base = base_ms == 0 ? 25 : base_ms;
  const uint64_t cap = max_ms == 0 ? 10 * base : std::max<uint64_t>(max_ms, base);
  uint64_t ceiling = base;
  for (uint32_t i = 1; i < attempt && ceiling < cap; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, cap);
  return rng.Next() % (ceiling + 1);
}

}  // namespace keel::upstream
