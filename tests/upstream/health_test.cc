// Passive health: ejection threshold, exponential back-off, max-percent cap, resets,
// and balancers skipping ejected endpoints.
#include <gtest/gtest.h>

#include "dataplane/upstream/selector.h"
#include "tests/upstream/fixtures.h"

namespace keel::upstream {
namespace {

using fixtures::kMs;
using fixtures::MakeCluster;
using fixtures::Runtime;

cfg::Cluster HealthCluster(int n, uint32_t failures, uint32_t percent, bool eject_5xx = false) {
  auto c = MakeCluster(cfg::LbPolicy::ROUND_ROBIN, n);
  auto* h = c.mutable_health();
  h->set_consecutive_failures(failures);
  h->set_base_ejection_ms(1000);
  h->set_max_ejection_ms(3000);
  h->set_max_ejection_percent(percent);
  h->set_eject_on_5xx(eject_5xx);
  return c;
}

void Fail(ClusterSelector& sel, uint32_t e, int times, uint64_t now, Outcome o = Outcome::kConnectFailure) {
  for (int i = 0; i < times; ++i) sel.OnRequestEnd(sel.OnRequestStart(e), kMs, o, now);
}

TEST(Health, EjectsAfterConsecutiveFailuresAndBalancersSkipIt) {
  ClusterSelector sel(Runtime(HealthCluster(3, 3, 100)), 1);
  Fail(sel, 1, 2, 0);
  EXPECT_FALSE(HealthTracker::Ejected(sel.state(1), 0));
  Fail(sel, 1, 1, 0);
  EXPECT_TRUE(HealthTracker::Ejected(sel.state(1), 0));
  PickContext ctx;
  ctx.now_ns = 500 * kMs;
  for (int i = 0; i < 50; ++i) EXPECT_NE(*sel.Pick(ctx), 1u);
  ctx.now_ns = 1000 * kMs;  // base ejection over
  int got = 0;
  for (int i = 0; i < 30; ++i) got += *sel.Pick(ctx) == 1 ? 1 : 0;
  EXPECT_EQ(got, 10);
}

TEST(Health, BackoffDoublesWithoutSuccessAndIsCapped) {
  ClusterSelector sel(Runtime(HealthCluster(2, 1, 100)), 1);
  uint64_t now = 0;
  const uint64_t expected_ms[] = {1000, 2000, 3000, 3000};  // base 1 s, cap 3 s
  for (uint64_t ms : expected_ms) {
    Fail(sel, 0, 1, now);
    EXPECT_EQ(sel.state(0).ejected_until_ns, now + ms * kMs);
    now = sel.state(0).ejected_until_ns;  // back in rotation, fails again
  }
  EXPECT_EQ(sel.health().EjectionNs(64), 3000 * kMs);  // no overflow for large n
  // A success resets the back-off: the next ejection is base again.
  sel.OnRequestEnd(sel.OnRequestStart(0), kMs, Outcome::kSuccess, now);
  Fail(sel, 0, 1, now);
  EXPECT_EQ(sel.state(0).ejected_until_ns, now + 1000 * kMs);
}

TEST(Health, SuccessResetsTheStreak) {
  ClusterSelector sel(Runtime(HealthCluster(2, 3, 100)), 1);
  Fail(sel, 0, 2, 0);
  sel.OnRequestEnd(sel.OnRequestStart(0), kMs, Outcome::kSuccess, 0);
  Fail(sel, 0, 2, 0);
  EXPECT_FALSE(HealthTracker::Ejected(sel.state(0), 0));
  Fail(sel, 0, 1, 0);
  EXPECT_TRUE(HealthTracker::Ejected(sel.state(0), 0));
}

TEST(Health, NeverMoreThanMaxEjectionPercent) {
  ClusterSelector sel(Runtime(HealthCluster(10, 1, 30)), 1);
  for (uint32_t e = 0; e < 10; ++e) Fail(sel, e, 1, 0);
  int ejected = 0;
  for (uint32_t e = 0; e < 10; ++e) ejected += HealthTracker::Ejected(sel.state(e), 0) ? 1 : 0;
  EXPECT_EQ(ejected, 3);
  PickContext ctx;
  for (int i = 0; i < 70; ++i) EXPECT_TRUE(sel.Pick(ctx));
}

TEST(Health, SmallClusterMayStillEjectOne) {
  ClusterSelector sel(Runtime(HealthCluster(2, 1, 10)), 1);  // 10% of 2 rounds to 0
  Fail(sel, 0, 1, 0);
  Fail(sel, 1, 1, 0);
  EXPECT_TRUE(HealthTracker::Ejected(sel.state(0), 0));
  EXPECT_FALSE(HealthTracker::Ejected(sel.state(1), 0));
  EXPECT_EQ(*sel.Pick({}), 1u);
}

TEST(Health, FiveHundredsCountOnlyWhenConfigured) {
  ClusterSelector off(Runtime(HealthCluster(2, 2, 100, false)), 1);
  Fail(off, 0, 5, 0, Outcome::kStatus5xx);
  EXPECT_FALSE(HealthTracker::Ejected(off.state(0), 0));
  ClusterSelector on(Runtime(HealthCluster(2, 2, 100, true)), 1);
  Fail(on, 0, 2, 0, Outcome::kStatus5xx);
  EXPECT_TRUE(HealthTracker::Ejected(on.state(0), 0));
  // Cancellations are neutral.
  ClusterSelector c(Runtime(HealthCluster(2, 1, 100)), 1);
  Fail(c, 0, 3, 0, Outcome::kCancelled);
  EXPECT_FALSE(HealthTracker::Ejected(c.state(0), 0));
}

TEST(Health, DisabledWhenThresholdZero) {
  ClusterSelector sel(Runtime(HealthCluster(2, 0, 100)), 1);
  Fail(sel, 0, 100, 0);
  EXPECT_FALSE(HealthTracker::Ejected(sel.state(0), 0));
}

}  // namespace
}  // namespace keel::upstream
