// The cache's Prometheus series follow the Store's counters.
#include "dataplane/cache/metrics.h"

#include <gtest/gtest.h>

namespace keel::cache {
namespace {

TEST(CacheMetrics, ExportsStoreCounters) {
  auto store = std::make_shared<Store>(1 << 20, 1 << 16);
  metrics::Registry reg;
  RegisterCacheCollector(&reg, store);
  store->stats().hits.fetch_add(3);
  store->stats().misses.fetch_add(1);
  store->Insert("http://a/", std::make_shared<Object>());
  std::string text = reg.Serialize();
  EXPECT_NE(text.find("keel_cache_requests_total{cache_status=\"hit\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("keel_cache_requests_total{cache_status=\"miss\"} 1"), std::string::npos);
  EXPECT_NE(text.find("keel_cache_inserts_total 1"), std::string::npos);
  EXPECT_NE(text.find("keel_cache_objects 1"), std::string::npos);
  EXPECT_NE(text.find("keel_cache_capacity_bytes 1048576"), std::string::npos);
}

}  // namespace
}  // namespace keel::cache
