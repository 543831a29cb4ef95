// Sharded cells summed at scrape time: concurrent writers on bound and unbound
// threads lose nothing; registry re-registration, aliases, histograms, text format.
#include "common/metrics/metrics.h"

#include <gtest/gtest.h>
#include <prometheus/metric_family.h>

#include <thread>
#include <vector>

namespace keel::metrics {
namespace {

TEST(Cells, ConcurrentShardsSumExactly) {
  Registry reg;
  Counter c = reg.AddCounter("keel_test_concurrent_total", "t");
  Gauge g = reg.AddGauge("keel_test_level", "t");
  constexpr int kThreads = 6, kPerThread = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Half the threads bind to their own shard, half share shard 0.
      if (t % 2 == 0) BindThisThread(t + 1);
      for (int i = 0; i < kPerThread; ++i) {
        c.Inc();
        g.Add(2);
        g.Sub(1);
      }
    });
  }
  // A scrape racing with the writers sees a value between 0 and the final one.
  uint64_t mid = c.Value();
  for (auto& th : threads) th.join();
  EXPECT_LE(mid, uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(c.Value(), uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(g.Value(), int64_t{kThreads} * kPerThread);
}

TEST(Cells, GaugeGoesNegativeAcrossShards) {
  Registry reg;
  Gauge g = reg.AddGauge("keel_test_signed", "t");
  std::thread a([&] {
    BindThisThread(3);
    g.Add(5);
  });
  a.join();
  std::thread b([&] {
    BindThisThread(4);
    g.Sub(7);
  });
  b.join();
  EXPECT_EQ(g.Value(), -2);
}

TEST(Registry, SameNameAndLabelsIsSameSeries) {
  Registry reg;
  Counter a = reg.AddCounter("keel_test_same_total", "t", {{"k", "v"}});
  Counter b = reg.AddCounter("keel_test_same_total", "t", {{"k", "v"}});
  Counter other = reg.AddCounter("keel_test_same_total", "t", {{"k", "w"}});
  a.Inc(3);
  b.Inc(4);
  other.Inc();
  EXPECT_EQ(a.Value(), 7u);
  EXPECT_EQ(other.Value(), 1u);
}

TEST(Registry, TypeConflictIsDroppedNotCrashed) {
  Registry reg;
  reg.AddCounter("keel_test_conflict", "t").Inc();
  Gauge g = reg.AddGauge("keel_test_conflict", "t");
  g.Add(5);  // writes nowhere
  EXPECT_EQ(g.Value(), 0);
  auto text = reg.Serialize();
  EXPECT_NE(text.find("keel_test_conflict 1"), std::string::npos) << text;
}

TEST(Histogram, BucketsSumCountAndExposition) {
  Registry reg;
  // Durations in ms, exported in seconds.
  Histogram h = reg.AddHistogram("keel_test_duration_seconds", "t", {{"route", "a"}}, {0.01, 0.1, 1}, 1e-3);
  for (uint64_t ms : {1, 10, 11, 100, 500, 2000}) h.Observe(ms);
  EXPECT_EQ(h.Buckets(), (std::vector<uint64_t>{2, 2, 1, 1}));  // ≤10ms, ≤100ms, ≤1s, +Inf
  EXPECT_EQ(h.Count(), 6u);
  EXPECT_EQ(h.SumRaw(), 2622u);
  auto text = reg.Serialize();
  EXPECT_NE(text.find("# TYPE keel_test_duration_seconds histogram"), std::string::npos) << text;
  EXPECT_NE(text.find("keel_test_duration_seconds_bucket{route=\"a\",le=\"0.1\"} 4"), std::string::npos)
      << text;
  EXPECT_NE(text.find("keel_test_duration_seconds_bucket{route=\"a\",le=\"+Inf\"} 6"), std::string::npos)
      << text;
  EXPECT_NE(text.find("keel_test_duration_seconds_count{route=\"a\"} 6"), std::string::npos) << text;
  EXPECT_NE(text.find("keel_test_duration_seconds_sum{route=\"a\"} 2.622"), std::string::npos) << text;
}

TEST(Registry, AliasExportsTheSameCellsUnderAnotherName) {
  Registry reg;
  Counter c = reg.AddCounter("keel_test_requests_total", "t", {{"namespace", "ns"}});
  reg.AliasCounter(c, "nginx_ingress_controller_requests", "compat",
                   {{"namespace", "ns"}, {"status", "2xx"}});
  Histogram h = reg.AddHistogram("keel_test_seconds", "t", {}, {1}, 1);
  reg.AliasHistogram(h, "nginx_ingress_controller_request_duration_seconds", "compat", {{"ingress", "i"}});
  c.Inc(5);
  h.Observe(3);
  auto text = reg.Serialize();
  EXPECT_NE(text.find("keel_test_requests_total{namespace=\"ns\"} 5"), std::string::npos) << text;
  EXPECT_NE(text.find("nginx_ingress_controller_requests{namespace=\"ns\",status=\"2xx\"} 5"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("nginx_ingress_controller_request_duration_seconds_count{ingress=\"i\"} 1"),
            std::string::npos)
      << text;
}

TEST(Registry, CollectorsAddScrapeTimeFamilies) {
  Registry reg;
  int calls = 0;
  reg.AddCollector([&calls](std::vector<prometheus::MetricFamily>* out) {
    ++calls;
    prometheus::MetricFamily f;
    f.name = "keel_test_computed";
    f.help = "t";
    f.type = prometheus::MetricType::Gauge;
    prometheus::ClientMetric m;
    m.gauge.value = 42;
    f.metric.push_back(m);
    out->push_back(f);
  });
  auto text = reg.Serialize();
  EXPECT_EQ(calls, 1);
  EXPECT_NE(text.find("keel_test_computed 42"), std::string::npos) << text;
}

TEST(Registry, DefaultHandlesAreInert) {
  Counter c;
  Histogram h;
  c.Inc();
  h.Observe(1);
  EXPECT_EQ(c.Value(), 0u);
  EXPECT_EQ(h.Count(), 0u);
}

}  // namespace
}  // namespace keel::metrics
