// ClusterSelector/WorkerClusters: state survives endpoint updates, draining endpoints,
// the ready → terminating fallback, and the retry budget/back-off helpers.
#include "dataplane/upstream/selector.h"

#include <gtest/gtest.h>

#include "dataplane/upstream/retry.h"
#include "tests/upstream/fixtures.h"

namespace keel::upstream {
namespace {

using fixtures::kMs;
using fixtures::MakeCluster;
using fixtures::MakeEndpoint;
using fixtures::Runtime;

TEST(Selector, UpdateKeepsStateOfRemainingEndpoints) {
  auto c = MakeCluster(cfg::LbPolicy::PEAK_EWMA, 3);
  c.mutable_health()->set_consecutive_failures(1);
  c.mutable_health()->set_max_ejection_percent(100);
  ClusterSelector sel(Runtime(c), 1);
  const std::string key1 = sel.endpoint(1).key, key2 = sel.endpoint(2).key;
  auto t1 = sel.OnRequestStart(1);
  sel.OnRequestEnd(sel.OnRequestStart(1), 7 * kMs, Outcome::kSuccess, 10 * kMs);
  sel.OnRequestEnd(sel.OnRequestStart(2), kMs, Outcome::kConnectFailure, 10 * kMs);
  ASSERT_TRUE(HealthTracker::Ejected(sel.state(2), 10 * kMs));
  const double ewma1 = sel.state(1).ewma_ns;

  // Delta: endpoint 0 goes, a new one arrives first in order.
  cfg::Cluster next = c;
  next.mutable_endpoints()->DeleteSubrange(0, 1);
  *next.mutable_endpoints()->Add() = MakeEndpoint("10.0.0.0", 8080);
  next.mutable_endpoints()->SwapElements(0, 2);
  sel.Update(sel.cluster().WithEndpoints(next.endpoints()).value());
  ASSERT_EQ(sel.cluster().endpoints().size(), 3u);
  const int64_t n1 = sel.cluster().endpoints().FindByKey(key1);
  const int64_t n2 = sel.cluster().endpoints().FindByKey(key2);
  const int64_t fresh = sel.cluster().endpoints().FindByKey("10.0.0.0:8080");
  ASSERT_GE(n1, 0);
  ASSERT_GE(n2, 0);
  ASSERT_GE(fresh, 0);
  EXPECT_EQ(sel.state(n1).in_flight, 1u);
  EXPECT_DOUBLE_EQ(sel.state(n1).ewma_ns, ewma1);
  EXPECT_TRUE(HealthTracker::Ejected(sel.state(n2), 10 * kMs));
  EXPECT_EQ(sel.state(fresh).in_flight, 0u);
  EXPECT_EQ(sel.state(fresh).ewma_ns, 0.0);
  sel.OnRequestEnd(t1, kMs, Outcome::kSuccess, 20 * kMs);  // ticket from before the update
  EXPECT_EQ(sel.state(n1).in_flight, 0u);
}

TEST(Selector, RemovedEndpointDrainsUntilItsLastRequestEnds) {
  auto c = MakeCluster(cfg::LbPolicy::LEAST_REQUEST, 2);
  ClusterSelector sel(Runtime(c), 1);
  auto a = sel.OnRequestStart(0);
  auto b = sel.OnRequestStart(0);
  auto smaller = c;
  smaller.mutable_endpoints()->DeleteSubrange(0, 1);
  sel.Update(Runtime(smaller));
  EXPECT_EQ(sel.draining(), 1u);
  sel.OnRequestEnd(a, kMs, Outcome::kConnectFailure, 0);
  EXPECT_EQ(sel.draining(), 1u);
  sel.OnRequestEnd(b, kMs, Outcome::kSuccess, 0);
  EXPECT_EQ(sel.draining(), 0u);
  EXPECT_EQ(*sel.Pick({}), 0u);
}

TEST(Selector, TerminatingEndpointsServeOnlyWhenNoneReady) {
  cfg::Cluster c = MakeCluster(cfg::LbPolicy::ROUND_ROBIN, 0);
  auto term = MakeEndpoint("10.0.0.1", 80, 1, false);
  term.set_serving(true);
  term.set_terminating(true);
  *c.add_endpoints() = term;
  *c.add_endpoints() = MakeEndpoint("10.0.0.2", 80, 1, true);
  ClusterSelector sel(Runtime(c), 1);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(*sel.Pick({}), 1u);
  c.mutable_endpoints(1)->set_ready(false);
  c.mutable_endpoints(1)->set_serving(false);
  sel.Update(Runtime(c));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(*sel.Pick({}), 0u);
  c.mutable_endpoints(0)->set_serving(false);
  sel.Update(Runtime(c));
  EXPECT_FALSE(sel.Pick({}));
}

TEST(WorkerClusters, FullSnapshotKeepsSelectorsByName) {
  cfg::Snapshot s;
  auto web = MakeCluster(cfg::LbPolicy::ROUND_ROBIN, 2);
  auto api = MakeCluster(cfg::LbPolicy::ROUND_ROBIN, 2);
  api.set_name("default/api:80");
  *s.add_clusters() = api;
  *s.add_clusters() = web;
  WorkerClusters w(42);
  w.Update(ClusterTable::Build(s).value());
  ASSERT_EQ(w.size(), 2u);
  auto held = w.at(0);  // a request in flight holds its selector
  auto ticket = held->OnRequestStart(1);

  cfg::Snapshot s2;
  *s2.add_clusters() = web;  // api dropped, web re-sent as a new object
  w.Update(ClusterTable::Build(s2).value());
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w.at(0)->cluster().name(), "default/web:80");
  EXPECT_EQ(held->cluster().name(), "default/api:80");  // still alive for its request
  held->OnRequestEnd(ticket, kMs, Outcome::kSuccess, 0);

  auto web_sel = w.at(0);
  auto t = web_sel->OnRequestStart(0);
  w.Update(ClusterTable::Build(s2).value());
  EXPECT_EQ(w.at(0), web_sel);
  EXPECT_EQ(w.at(0)->state(0).in_flight, 1u);
  web_sel->OnRequestEnd(t, kMs, Outcome::kSuccess, 0);
}

TEST(RetryBudget, AllowsAShareOfInFlightWithAFloorOfThree) {
  RetryBudget b;
  EXPECT_TRUE(b.AllowRetry(20));
  for (int i = 0; i < 3; ++i) b.OnRetryStart();
  EXPECT_FALSE(b.AllowRetry(20));  // 0 requests in flight: floor of 3 reached
  for (int i = 0; i < 100; ++i) b.OnRequestStart();
  EXPECT_TRUE(b.AllowRetry(20));  // 20% of 100 = 20
  for (int i = 0; i < 17; ++i) b.OnRetryStart();
  EXPECT_FALSE(b.AllowRetry(20));
  EXPECT_TRUE(b.AllowRetry(50));
  EXPECT_FALSE(b.AllowRetry(0));  // 0 = default 20%
  b.OnRetryEnd();
  EXPECT_TRUE(b.AllowRetry(20));
}

TEST(Backoff, FullJitterWithinExponentialCeiling) {
  Rng rng(3);
  for (uint32_t attempt = 1; attempt <= 6; ++attempt) {
    const uint64_t ceiling = std::min<uint64_t>(25ull << (attempt - 1), 200);
    uint64_t max_seen = 0, sum = 0;
    for (int i = 0; i < 5000; ++i) {
      const uint64_t d = BackoffMs(attempt, 25, 200, rng);
      ASSERT_LE(d, ceiling);
      max_seen = std::max(max_seen, d);
      sum += d;
    }
    EXPECT_GE(max_seen, ceiling * 9 / 10);                     // reaches the ceiling...
    EXPECT_NEAR(sum / 5000.0, ceiling / 2.0, ceiling * 0.05);  // ...uniformly
  }
  EXPECT_LE(BackoffMs(1, 0, 0, rng), 25u);    // defaults: base 25 ms
  EXPECT_LE(BackoffMs(30, 0, 0, rng), 250u);  // cap 10 × base
}

}  // namespace
}  // namespace keel::upstream
