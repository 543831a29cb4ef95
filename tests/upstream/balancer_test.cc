// Distribution and exclusion behaviour of the non-hashing balancers and sticky sessions.
#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "dataplane/upstream/selector.h"
#include "tests/upstream/fixtures.h"

namespace keel::upstream {
namespace {

using fixtures::kMs;
using fixtures::MakeCluster;
using fixtures::Runtime;

std::vector<int> Counts(ClusterSelector& sel, int picks, const PickContext& ctx = {}) {
  std::vector<int> counts(sel.cluster().endpoints().size(), 0);
  for (int i = 0; i < picks; ++i) {
    auto p = sel.Pick(ctx);
    if (p) ++counts[*p];
  }
  return counts;
}

TEST(RoundRobin, SmoothWeightedSequenceMatchesNginx) {
  ClusterSelector sel(Runtime(MakeCluster(cfg::LbPolicy::ROUND_ROBIN, 3, {5, 1, 1})), 1);
  std::string seq;
  for (int i = 0; i < 7; ++i) seq += static_cast<char>('a' + *sel.Pick({}));
  EXPECT_EQ(seq, "aabacaa");  // nginx's documented interleaving for weights 5,1,1
}

TEST(RoundRobin, ExactProportionsOverEveryCycle) {
  const std::vector<uint32_t> w = {3, 2, 1, 7, 4};
  ClusterSelector sel(Runtime(MakeCluster(cfg::LbPolicy::ROUND_ROBIN, 5, w)), 7);
  for (int cycle = 0; cycle < 20; ++cycle) {
    auto counts = Counts(sel, 17);
    for (size_t i = 0; i < w.size(); ++i) EXPECT_EQ(counts[i], static_cast<int>(w[i])) << "cycle " << cycle;
  }
}

TEST(RoundRobin, UniformWeightsRotate) {
  ClusterSelector sel(Runtime(MakeCluster(cfg::LbPolicy::KIND_UNSPECIFIED, 4)), 3);
  auto counts = Counts(sel, 400);
  for (int c : counts) EXPECT_EQ(c, 100);
}

TEST(Random, WeightProportional) {
  ClusterSelector sel(Runtime(MakeCluster(cfg::LbPolicy::RANDOM, 4, {1, 2, 3, 4})), 11);
  const int n = 100000;
  auto counts = Counts(sel, n);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(counts[i] / double(n), (i + 1) / 10.0, 0.01) << i;
}

TEST(LeastRequest, NeverPicksTheMostLoadedOfTwoChoices) {
  ClusterSelector sel(Runtime(MakeCluster(cfg::LbPolicy::LEAST_REQUEST, 4)), 5);
  for (int i = 0; i < 10; ++i) sel.OnRequestStart(0);
  auto counts = Counts(sel, 2000);
  EXPECT_EQ(counts[0], 0);  // any pair that samples endpoint 0 has a less loaded partner
  for (int i = 1; i < 4; ++i) EXPECT_NEAR(counts[i], 667, 120);
}

TEST(LeastRequest, FavoursEndpointsThatFinishFaster) {
  // Endpoint 0 holds every request 8 ticks, the others 1: it accumulates in-flight
  // requests, so P2C steers traffic away from it.
  ClusterSelector sel(Runtime(MakeCluster(cfg::LbPolicy::LEAST_REQUEST, 3)), 9);
  std::vector<std::vector<ClusterSelector::Ticket>> due(20);
  std::vector<int> counts(3, 0);
  for (int t = 0; t < 30000; ++t) {
    for (auto& tk : due[t % 20]) sel.OnRequestEnd(tk, kMs, Outcome::kSuccess, t * kMs);
    due[t % 20].clear();
    for (int k = 0; k < 3; ++k) {  // 3 arrivals a tick
      const uint32_t e = *sel.Pick({});
      ++counts[e];
      due[(t + (e == 0 ? 8 : 1)) % 20].push_back(sel.OnRequestStart(e));
    }
  }
  EXPECT_LT(counts[0], counts[1] / 2);
  EXPECT_LT(counts[0], counts[2] / 2);
}

TEST(PeakEwma, FavoursTheFastEndpoint) {
  ClusterSelector sel(Runtime(MakeCluster(cfg::LbPolicy::PEAK_EWMA, 3)), 13);
  const uint64_t latency[] = {1 * kMs, 5 * kMs, 50 * kMs};
  std::vector<int> counts(3, 0);
  uint64_t now = 0;
  for (int i = 0; i < 20000; ++i) {
    PickContext ctx;
    ctx.now_ns = now;
    const uint32_t e = *sel.Pick(ctx);
    ++counts[e];
    auto tk = sel.OnRequestStart(e);
    now += kMs / 2;
    sel.OnRequestEnd(tk, latency[e], Outcome::kSuccess, now);
  }
  // P2C over three endpoints: the fast one wins every pair it is sampled in (2/3 of
  // pairs); the slow one only when idle decay has brought its cost under the others'.
  EXPECT_GT(counts[0], 20000 * 0.6);
  EXPECT_GT(counts[1], counts[2] * 5);
  EXPECT_LT(counts[2], 20000 * 0.02);
  EXPECT_GT(sel.state(2).ewma_ns, sel.state(0).ewma_ns);
}

TEST(PeakEwma, PeakSensitiveAndDecays) {
  EndpointState s;
  const double tau = 1e9;  // 1 s
  ObserveLatency(s, 10e6, 0, tau);
  ObserveLatency(s, 100e6, 1, tau);  // a slower sample is taken at once (peak)
  EXPECT_DOUBLE_EQ(s.ewma_ns, 100e6);
  ObserveLatency(s, 10e6, 1000000000, tau);  // one tau later: weight e^-1 on the old value
  EXPECT_NEAR(s.ewma_ns, 100e6 * 0.36788 + 10e6 * (1 - 0.36788), 1e4);
  const double before = s.ewma_ns;
  EXPECT_LT(PeakEwmaCost(s, 5000000000, tau), before);  // idle decays toward 0
  s.ewma_ns = 0;
  s.in_flight = 2;
  EXPECT_GT(PeakEwmaCost(s, 5000000000, tau), 1e14);  // no estimate but busy: penalised
}

class EveryPolicy : public ::testing::TestWithParam<cfg::LbPolicy::Kind> {};

TEST_P(EveryPolicy, TriedEndpointsAreExcluded) {
  ClusterSelector sel(Runtime(MakeCluster(GetParam(), 4)), 17);
  TriedSet tried;
  tried.Add(sel.endpoint(0).sticky_hash);
  tried.Add(sel.endpoint(2).sticky_hash);
  PickContext ctx;
  ctx.tried = &tried;
  for (int i = 0; i < 500; ++i) {
    const std::string key = "k" + std::to_string(i);
    ctx.hash_key = key;
    auto p = sel.Pick(ctx);
    ASSERT_TRUE(p);
    EXPECT_TRUE(*p == 1 || *p == 3) << *p;
  }
  tried.Add(sel.endpoint(1).sticky_hash);
  tried.Add(sel.endpoint(3).sticky_hash);
  ctx.hash_key = "last";        // the loop's key is gone
  EXPECT_FALSE(sel.Pick(ctx));  // everything tried: the proxy answers 503
}

TEST_P(EveryPolicy, EmptyClusterPicksNothing) {
  ClusterSelector sel(Runtime(MakeCluster(GetParam(), 0)), 1);
  EXPECT_FALSE(sel.Pick({}));
}

INSTANTIATE_TEST_SUITE_P(All, EveryPolicy,
                         ::testing::Values(cfg::LbPolicy::ROUND_ROBIN, cfg::LbPolicy::LEAST_REQUEST,
                                           cfg::LbPolicy::PEAK_EWMA, cfg::LbPolicy::RING_HASH,
                                           cfg::LbPolicy::MAGLEV, cfg::LbPolicy::RANDOM));

TEST(Sticky, CookieKeepsAffinityAndFallsBackWhenEndpointGone) {
  auto c = MakeCluster(cfg::LbPolicy::ROUND_ROBIN, 5);
  c.mutable_lb()->mutable_sticky()->set_name("keel-affinity");
  ClusterSelector sel(Runtime(c), 21);
  const uint32_t first = *sel.Pick({});
  const std::string cookie = sel.endpoint(first).sticky_value;
  PickContext ctx;
  ctx.sticky_cookie = cookie;
  for (int i = 0; i < 100; ++i) ASSERT_EQ(*sel.Pick(ctx), first);

  // The endpoint goes away: the configured policy takes over (and the proxy re-issues
  // the cookie because the chosen endpoint's sticky_value differs).
  auto smaller = c;
  smaller.mutable_endpoints()->DeleteSubrange(static_cast<int>(first), 1);
  sel.Update(Runtime(smaller));
  std::map<uint32_t, int> seen;
  for (int i = 0; i < 100; ++i) {
    const uint32_t p = *sel.Pick(ctx);
    EXPECT_NE(sel.endpoint(p).sticky_value, cookie);
    ++seen[p];
  }
  EXPECT_EQ(seen.size(), 4u);  // round robin over the rest

  // A malformed or unknown cookie is ignored, never an error.
  ctx.sticky_cookie = "garbage";
  EXPECT_TRUE(sel.Pick(ctx));
}

TEST(Sticky, TriedStickyEndpointIsLeftForARetry) {
  auto c = MakeCluster(cfg::LbPolicy::ROUND_ROBIN, 3);
  c.mutable_lb()->mutable_sticky()->set_name("s");
  ClusterSelector sel(Runtime(c), 2);
  PickContext ctx;
  ctx.sticky_cookie = sel.endpoint(1).sticky_value;
  TriedSet tried;
  tried.Add(sel.endpoint(1).sticky_hash);
  ctx.tried = &tried;
  for (int i = 0; i < 20; ++i) EXPECT_NE(*sel.Pick(ctx), 1u);
}

}  // namespace
}  // namespace keel::upstream
