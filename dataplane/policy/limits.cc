// Token buckets and in-flight counters (see limits.h for the per-worker reasoning).
#include "dataplane/policy/limits.h"

#include <algorithm>
#include <cmath>

namespace keel::policy {
namespace {
uint32_t Share(uint32_t value, uint32_t workers) {
  return std::max<uint32_t>(1, (value + workers - 1) / workers);
}
}  // namespace

bool RateLimiter::Sweep(uint64_t now_ms) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    const Bucket& b = it->second;
    // Refilled by now: forgetting it changes nothing, a new bucket starts full.
    if (b.tokens + static_cast<double>(now_ms - b.at_ms) * b.rate >= b.capacity)
      it = buckets_.erase(it);
    else
      ++it;
  }
  return buckets_.size() < kMaxEntries;
}

uint32_t RateLimiter::Admit(std::string_view key, uint32_t rps, uint32_t burst, uint64_t now_ms) {
  if (rps == 0) return 0;
  const double rate = static_cast<double>(rps) / workers_ / 1000.0;
  const double capacity = std::max(1.0, static_cast<double>(burst + 1) / workers_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= kMaxEntries && !Sweep(now_ms)) {
      ++untracked_;
      return 0;
    }
    it = buckets_.emplace(std::string(key), Bucket{capacity, now_ms, capacity, rate}).first;
  }
  Bucket& b = it->second;
  // A changed annotation takes effect at once; tokens never exceed the new capacity.
  b.capacity = capacity;
  b.rate = rate;
  if (now_ms > b.at_ms)
    b.tokens = std::min(capacity, b.tokens + static_cast<double>(now_ms - b.at_ms) * rate);
  b.at_ms = std::max(b.at_ms, now_ms);
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  const double wait_ms = (1.0 - b.tokens) / rate;
  return std::max<uint32_t>(1, static_cast<uint32_t>(std::ceil(wait_ms / 1000.0)));
}

Lease& Lease::operator=(Lease&& o) noexcept {
  if (this != &o) {
    Release();
    count_ = o.count_;
    o.count_ = nullptr;
  }
  return *this;
}

void Lease::Release() {
  if (count_ != nullptr) --*count_;
  count_ = nullptr;
}

bool ConcurrencyLimiter::Admit(std::string_view key, uint32_t limit, Lease* lease) {
  if (limit == 0) return true;
  auto it = counts_.find(key);
  if (it == counts_.end()) {
    if (counts_.size() >= kMaxEntries) std::erase_if(counts_, [](const auto& kv) { return kv.second == 0; });
    if (counts_.size() >= kMaxEntries) {
      ++untracked_;
      return true;
    }
    it = counts_.emplace(std::string(key), 0).first;
  }
  if (it->second >= Share(limit, workers_)) return false;
  ++it->second;
  *lease = Lease(&it->second);
  return true;
}

uint32_t ConcurrencyLimiter::InFlight(std::string_view key) const {
  auto it = counts_.find(key);
  return it == counts_.end() ? 0 : it->second;
}

}  // namespace keel::policy
