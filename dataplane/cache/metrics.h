// Prometheus series of the response cache, read from the Store's counters at scrape
// time (the request path only bumps the Store's relaxed atomics):
//   keel_cache_requests_total{cache_status="hit|miss|stale|bypass"}
//   keel_cache_inserts_total, keel_cache_evictions_total, keel_cache_purged_total,
//   keel_cache_coalesced_total, keel_cache_not_stored_total
//   keel_cache_bytes, keel_cache_objects, keel_cache_capacity_bytes (gauges)
#pragma once

#include <memory>

#include "common/metrics/metrics.h"
#include "dataplane/cache/store.h"

namespace keel::cache {

void RegisterCacheCollector(metrics::Registry* registry, std::shared_ptr<Store> store);

}  // namespace keel::cache
