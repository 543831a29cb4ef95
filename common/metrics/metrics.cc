// Registry: names and labels of every series, mapped to their cells; Collect turns
// the sharded cells into prometheus-cpp MetricFamily values at scrape time.
#include "common/metrics/metrics.h"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <limits>
#include <map>
#include <mutex>

#include "common/log.h"

namespace keel::metrics {
namespace {

struct Series {
  Labels labels;
  uint32_t cell = internal::Cells::kNoCell;
  std::shared_ptr<const void> shape;  // Histogram::Shape for histograms
};

struct Family {
  std::string help;
  prometheus::MetricType type = prometheus::MetricType::Untyped;
  std::vector<Series> series;
  std::map<Labels, size_t> index;  // labels → position in series
};

}  // namespace

struct Registry::Impl {
  mutable std::mutex mu;
  std::map<std::string, Family> families;
  std::vector<CollectFn> collectors;

  // Returns the series (existing or new); null when the name is taken by another type.
  Series* Find(const std::string& name, const std::string& help, prometheus::MetricType type,
               const Labels& labels, bool* created) {
    Family& f = families[name];
    if (f.series.empty() && f.help.empty()) {
      f.help = help;
      f.type = type;
    } else if (f.type != type) {
      KEEL_LOG(Error, "metrics") << "metric " << name << " registered twice with different types";
      return nullptr;
    }
    auto it = f.index.find(labels);
    if (it != f.index.end()) {
      *created = false;
      return &f.series[it->second];
    }
    f.index.emplace(labels, f.series.size());
    f.series.push_back(Series{labels, internal::Cells::kNoCell, nullptr});
    *created = true;
    return &f.series.back();
  }

  uint32_t Cell(const std::string& name, const std::string& help, prometheus::MetricType type,
                const Labels& labels, uint32_t n) {
    std::lock_guard<std::mutex> lock(mu);
    bool created = false;
    Series* s = Find(name, help, type, labels, &created);
    if (!s) return internal::Cells::kNoCell;
    if (created) s->cell = internal::Cells::Get().Allocate(n);
    return s->cell;
  }
};

void Histogram::Observe(uint64_t raw) const {
  if (!shape_) return;
  const auto& b = shape_->raw_bounds;
  // Linear scan: ~12 bounds, branch-predictable, cheaper than a binary search here.
  size_t i = 0;
  while (i < b.size() && raw > b[i]) ++i;
  auto& cells = internal::Cells::Get();
  cells.Add(cell_ + static_cast<uint32_t>(i), 1);
  cells.Add(cell_ + static_cast<uint32_t>(b.size()) + 1, raw);
  cells.Add(cell_ + static_cast<uint32_t>(b.size()) + 2, 1);
}

std::vector<uint64_t> Histogram::Buckets() const {
  std::vector<uint64_t> out;
  if (!shape_) return out;
  for (size_t i = 0; i <= shape_->raw_bounds.size(); ++i) {
    out.push_back(internal::Cells::Get().Sum(cell_ + static_cast<uint32_t>(i)));
  }
  return out;
}

uint64_t Histogram::SumRaw() const {
  return shape_ ? internal::Cells::Get().Sum(cell_ + static_cast<uint32_t>(shape_->raw_bounds.size()) + 1)
                : 0;
}

uint64_t Histogram::Count() const {
  return shape_ ? internal::Cells::Get().Sum(cell_ + static_cast<uint32_t>(shape_->raw_bounds.size()) + 2)
                : 0;
}

std::vector<double> DefaultDurationBounds() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

Registry::Registry() : impl_(std::make_unique<Impl>()) {}
Registry::~Registry() = default;

Registry& Registry::Default() {
  static Registry* r = new Registry();  // never destroyed: scrapes may race with exit
  return *r;
}

Counter Registry::AddCounter(const std::string& name, const std::string& help, const Labels& labels) {
  return Counter(impl_->Cell(name, help, prometheus::MetricType::Counter, labels, 1));
}

Gauge Registry::AddGauge(const std::string& name, const std::string& help, const Labels& labels) {
  return Gauge(impl_->Cell(name, help, prometheus::MetricType::Gauge, labels, 1));
}

Histogram Registry::AddHistogram(const std::string& name, const std::string& help, const Labels& labels,
                                 const std::vector<double>& bounds, double unit) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  bool created = false;
  Series* s = impl_->Find(name, help, prometheus::MetricType::Histogram, labels, &created);
  if (!s) return Histogram();
  if (created) {
    auto shape = std::make_shared<Histogram::Shape>();
    shape->bounds = bounds;
    std::sort(shape->bounds.begin(), shape->bounds.end());
    shape->unit = unit > 0 ? unit : 1;
    for (double b : shape->bounds) shape->raw_bounds.push_back(static_cast<uint64_t>(b / shape->unit + 0.5));
    s->cell = internal::Cells::Get().Allocate(static_cast<uint32_t>(shape->bounds.size()) + 3);
    s->shape = shape;
  }
  return Histogram(s->cell, std::static_pointer_cast<const Histogram::Shape>(s->shape));
}

void Registry::AliasCounter(const Counter& c, const std::string& name, const std::string& help,
                            const Labels& labels) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  bool created = false;
  Series* s = impl_->Find(name, help, prometheus::MetricType::Counter, labels, &created);
  if (s && created) s->cell = c.cell_;
}

void Registry::AliasHistogram(const Histogram& h, const std::string& name, const std::string& help,
                              const Labels& labels) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  bool created = false;
  Series* s = impl_->Find(name, help, prometheus::MetricType::Histogram, labels, &created);
  if (s && created) {
    s->cell = h.cell_;
    s->shape = h.shape_;
  }
}

void Registry::AddCollector(CollectFn fn) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->collectors.push_back(std::move(fn));
}

std::vector<prometheus::MetricFamily> Registry::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  std::vector<CollectFn> collectors;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    auto& cells = internal::Cells::Get();
    for (const auto& [name, f] : impl_->families) {
      if (f.series.empty()) continue;
      prometheus::MetricFamily mf;
      mf.name = name;
      mf.help = f.help;
      mf.type = f.type;
      for (const auto& s : f.series) {
        prometheus::ClientMetric m;
        for (const auto& [k, v] : s.labels) m.label.push_back(prometheus::ClientMetric::Label{k, v});
        switch (f.type) {
          case prometheus::MetricType::Counter:
            m.counter.value = static_cast<double>(cells.Sum(s.cell));
            break;
          case prometheus::MetricType::Gauge:
            m.gauge.value = static_cast<double>(static_cast<int64_t>(cells.Sum(s.cell)));
            break;
          case prometheus::MetricType::Histogram: {
            auto shape = std::static_pointer_cast<const Histogram::Shape>(s.shape);
            Histogram h(s.cell, shape);
            auto buckets = h.Buckets();
            uint64_t cumulative = 0;
            for (size_t i = 0; i < buckets.size(); ++i) {
              cumulative += buckets[i];
              prometheus::ClientMetric::Bucket b;
              b.cumulative_count = cumulative;
              b.upper_bound =
                  i < shape->bounds.size() ? shape->bounds[i] : std::numeric_limits<double>::infinity();
              m.histogram.bucket.push_back(b);
            }
            // The count is the +Inf bucket, read in the same pass, so that a scrape
            // racing with Observe never shows count < le="+Inf".
            m.histogram.sample_count = cumulative;
            m.histogram.sample_sum = static_cast<double>(h.SumRaw()) * shape->unit;
            break;
          }
          default:
            break;
        }
        mf.metric.push_back(std::move(m));
      }
      out.push_back(std::move(mf));
    }
    collectors = impl_->collectors;
  }
  for (const auto& fn : collectors) fn(&out);
  return out;
}

std::string Registry::Serialize() const {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(Collect());
}

}  // namespace keel::metrics
