// Building blocks for scrape-time collectors (Registry::AddCollector): a family and
// its samples, shared by the controller's and the dataplane's collectors.
#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <utility>
#include <vector>

namespace keel::metrics {

inline prometheus::MetricFamily Family(std::string name, std::string help, prometheus::MetricType type) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

// One sample; counters and gauges only (histograms are built by the registry).
inline void Add(prometheus::MetricFamily* f, double value,
                std::vector<prometheus::ClientMetric::Label> labels = {}) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  if (f->type == prometheus::MetricType::Counter)
    m.counter.value = value;
  else
    m.gauge.value = value;
  f->metric.push_back(std::move(m));
}

}  // namespace keel::metrics
