// keel metrics: counters, gauges and histograms that both binaries expose on their
// --metrics-listen port in Prometheus text format (served by metrics_server.h).
//
// Hot path: Counter::Inc, Gauge::Add and Histogram::Observe are one relaxed atomic
// add on the calling thread's own shard (see cells.h) — no lock, no allocation, no
// cache line shared with other workers. A scrape sums the shards.
//
// How to add a counter (e.g. TLS handshakes, cache hits):
//
//   #include "common/metrics/metrics.h"
//   // Once, off the hot path (constructor, snapshot apply, or a function-local static);
//   // keep the handle, it is a small value valid for the life of the process:
//   static const keel::metrics::Counter hits = keel::metrics::Registry::Default().AddCounter(
//       "keel_cache_hits_total", "Responses served from the cache", {{"cache_status", "hit"}});
//   // On the hot path, from any thread:
//   hits.Inc();
//
// Rules: names start with "keel_" and counters end in "_total"; label values come
// from configuration or a small fixed set (never from request input: a path or a
// client address makes the series count unbounded). Registering the same name and
// labels again returns the same series, so per-snapshot code may re-register. Link
// the `keel_metrics` library. Worker threads call BindThisThread(worker + 1) once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/metrics/cells.h"

namespace prometheus {
struct MetricFamily;
}

namespace keel::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Monotonic count.
class Counter {
 public:
  Counter() = default;
  void Inc(uint64_t n = 1) const { internal::Cells::Get().Add(cell_, n); }
  uint64_t Value() const { return internal::Cells::Get().Sum(cell_); }

 private:
  friend class Registry;
  explicit Counter(uint32_t cell) : cell_(cell) {}
  uint32_t cell_ = internal::Cells::kNoCell;
};

// A level that goes up and down (open connections): sharded signed adds.
class Gauge {
 public:
  Gauge() = default;
  void Add(int64_t n) const { internal::Cells::Get().Add(cell_, static_cast<uint64_t>(n)); }
  void Sub(int64_t n) const { Add(-n); }
  int64_t Value() const { return static_cast<int64_t>(internal::Cells::Get().Sum(cell_)); }

 private:
  friend class Registry;
  explicit Gauge(uint32_t cell) : cell_(cell) {}
  uint32_t cell_ = internal::Cells::kNoCell;
};

// Cumulative histogram over integer observations in `unit`s (durations in ns with
// unit 1e-9, say); bounds are given in exported units (seconds). Sum kept as an
// integer count of units, so no floating-point CAS loop on the hot path.
class Histogram {
 public:
  Histogram() = default;
  void Observe(uint64_t raw) const;
  // Per-bucket counts (not cumulative), then +Inf; and sum in raw units, and count.
  std::vector<uint64_t> Buckets() const;
  uint64_t SumRaw() const;
  uint64_t Count() const;

 private:
  friend class Registry;
  struct Shape {
    std::vector<uint64_t> raw_bounds;  // inclusive upper bounds in raw units
    std::vector<double> bounds;
    double unit = 1;
  };
  Histogram(uint32_t cell, std::shared_ptr<const Shape> shape) : cell_(cell), shape_(std::move(shape)) {}
  uint32_t cell_ = internal::Cells::kNoCell;  // buckets..., +Inf, sum, count
  std::shared_ptr<const Shape> shape_;
};

// ingress-nginx's request duration buckets, so migrated dashboards keep their quantiles.
std::vector<double> DefaultDurationBounds();

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The process-wide registry that the binaries serve.
  static Registry& Default();

  Counter AddCounter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge AddGauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram AddHistogram(const std::string& name, const std::string& help, const Labels& labels,
                         const std::vector<double>& bounds, double unit);
  // Exports an existing series a second time under another name and labels (the
  // ingress-nginx compatible names behind --metrics-compat=nginx).
  void AliasCounter(const Counter& c, const std::string& name, const std::string& help, const Labels& labels);
  void AliasHistogram(const Histogram& h, const std::string& name, const std::string& help,
                      const Labels& labels);

  // Values computed at scrape time (config version, endpoints per cluster). The
  // callback runs on the scrape thread and must be thread-safe.
  using CollectFn = std::function<void(std::vector<prometheus::MetricFamily>* out)>;
  void AddCollector(CollectFn fn);

  std::vector<prometheus::MetricFamily> Collect() const;
  // Prometheus text exposition format 0.0.4.
  std::string Serialize() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Worker threads call this once at start with (worker index + 1); shard 0 is shared.
inline void BindThisThread(int shard) { internal::Cells::Get().BindThread(shard); }

}  // namespace keel::metrics
