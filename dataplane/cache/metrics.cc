#include "dataplane/cache/metrics.h"

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace keel::cache {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;

void Push(std::vector<MetricFamily>* out, const char* name, const char* help, MetricType type, double v) {
  MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  prometheus::ClientMetric m;
  if (type == MetricType::Counter)
    m.counter.value = v;
  else
    m.gauge.value = v;
  f.metric.push_back(std::move(m));
  out->push_back(std::move(f));
}

}  // namespace

void RegisterCacheCollector(metrics::Registry* registry, std::shared_ptr<Store> store) {
  registry->AddCollector([store](std::vector<MetricFamily>* out) {
    const CacheStats& s = store->stats();
    auto d = [](const std::atomic<uint64_t>& a) {
      return static_cast<double>(a.load(std::memory_order_relaxed));
    };
    MetricFamily req;
    req.name = "keel_cache_requests_total";
    req.help = "Requests on cached routes by outcome (the X-Cache header)";
    req.type = MetricType::Counter;
    for (auto [label, value] : {std::pair{"hit", d(s.hits)}, std::pair{"miss", d(s.misses)},
                                std::pair{"stale", d(s.stale)}, std::pair{"bypass", d(s.bypass)}}) {
      prometheus::ClientMetric m;
      m.label.push_back({"cache_status", label});
      m.counter.value = value;
      req.metric.push_back(std::move(m));
    }
    out->push_back(std::move(req));
    Push(out, "keel_cache_inserts_total", "Responses stored", MetricType::Counter, d(s.inserts));
    Push(out, "keel_cache_evictions_total", "Objects evicted to stay within --cache-size",
         MetricType::Counter, d(s.evictions));
    Push(out, "keel_cache_purged_total", "Objects removed by purge or unsafe methods", MetricType::Counter,
         d(s.purged));
    Push(out, "keel_cache_coalesced_total", "Requests that waited for another request's fetch",
         MetricType::Counter, d(s.coalesced));
    Push(out, "keel_cache_not_stored_total", "Responses on cached routes that could not be stored",
         MetricType::Counter, d(s.not_stored));
    Push(out, "keel_cache_bytes", "Bytes the stored objects are charged", MetricType::Gauge, d(s.bytes));
    Push(out, "keel_cache_objects", "Objects stored", MetricType::Gauge, d(s.objects));
    Push(out, "keel_cache_capacity_bytes", "--cache-size", MetricType::Gauge,
         static_cast<double>(store->capacity()));
  });
}

}  // namespace keel::cache
