// HeldConfig: endpoint deltas applied without copying the snapshot. The copying
// ApplyEndpointDelta (validate.h) is the oracle; identity checks prove the sharing.
#include "dataplane/config/held_config.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "dataplane/config/validate.h"
#include "tests/config/fixtures.h"

namespace keel {
namespace {

using dataplane::config::ApplyEndpointDelta;
using dataplane::config::HeldConfig;
using testing::MakeSnapshot;
using testing::SameSnapshot;
using testing::Shared;
namespace v1 = ::keel::config::v1;

// `n` clusters of 3 endpoints each, plus the fixture's two.
std::shared_ptr<const v1::Snapshot> World(int n) {
  v1::Snapshot s = MakeSnapshot("base");
  for (int c = 0; c < n; ++c) {
    v1::Cluster* cluster = s.add_clusters();
    cluster->set_name("ns/svc-" + std::to_string(c) + ":80");
    for (int e = 0; e < 3; ++e) {
      v1::Endpoint* ep = cluster->add_endpoints();
      ep->set_address("10.1." + std::to_string(c) + "." + std::to_string(e));
      ep->set_port(80);
    }
  }
  return Shared(s);
}

v1::EndpointDelta Delta(const std::string& base, const std::string& version,
                        std::vector<std::pair<std::string, int>> clusters) {
  v1::EndpointDelta d;
  d.set_base_version(base);
  d.set_version(version);
  d.set_built_at_unix_ms(42);
  for (const auto& [name, count] : clusters) {
    v1::ClusterEndpoints* ce = d.add_clusters();
    ce->set_cluster(name);
    for (int e = 0; e < count; ++e) {
      v1::Endpoint* ep = ce->add_endpoints();
      ep->set_address("10.9." + std::to_string(count) + "." + std::to_string(e));
      ep->set_port(8000 + static_cast<uint32_t>(e));
    }
  }
  return d;
}

TEST(HeldConfig, FullSnapshotIsHeldAsIs) {
  auto snap = World(3);
  HeldConfig held(snap);
  EXPECT_EQ(held.version(), "base");
  EXPECT_EQ(held.overlaid(), 0u);
  EXPECT_EQ(held.base().get(), snap.get());
  EXPECT_EQ(held.Materialize().get(), snap.get()) << "no overlay: no copy";
  EXPECT_EQ(&held.endpoints(2), &snap->clusters(2).endpoints());
}

TEST(HeldConfig, DeltaSharesTheSnapshotAndLeavesThePreviousIntact) {
  auto snap = World(100);
  auto held = std::make_shared<const HeldConfig>(snap);
  auto next = held->Apply(Delta("base", "v2", {{"ns/svc-7:80", 1}}));
  ASSERT_TRUE(next.ok()) << next.error();
  const HeldConfig& n = **next;
  // No copy of the world: the same snapshot object, untouched clusters read from it.
  EXPECT_EQ(n.base().get(), snap.get());
  EXPECT_EQ(&n.endpoints(8), &snap->clusters(8).endpoints());
  EXPECT_EQ(n.overlaid(), 1u);
  EXPECT_EQ(n.version(), "v2");
  EXPECT_EQ(n.built_at_unix_ms(), 42);
  const int svc7 = 2 + 7;  // after the fixture's api and web
  ASSERT_EQ(n.endpoints(svc7).size(), 1);
  EXPECT_EQ(n.endpoints(svc7)[0].address(), "10.9.1.0");
  // Whoever still holds the previous config sees it whole (old or new, never half).
  EXPECT_EQ(held->version(), "base");
  EXPECT_EQ(held->endpoints(svc7).size(), 3);
  EXPECT_EQ(held->overlaid(), 0u);
  EXPECT_EQ(snap->clusters(svc7).endpoints_size(), 3) << "the shared snapshot was never written";

  // A second delta on the same cluster replaces the overlay entry, not adds one.
  auto third = n.Apply(Delta("v2", "v3", {{"ns/svc-7:80", 2}, {"default/web:80", 0}}));
  ASSERT_TRUE(third.ok()) << third.error();
  EXPECT_EQ((*third)->overlaid(), 2u);
  EXPECT_EQ((*third)->endpoints(svc7).size(), 2);
  EXPECT_EQ(n.endpoints(svc7).size(), 1) << "v2 unchanged by v3";
}

TEST(HeldConfig, InvalidDeltaChangesNothing) {
  auto held = std::make_shared<const HeldConfig>(World(5));
  auto ok = held->Apply(Delta("base", "v2", {{"ns/svc-1:80", 1}}));
  ASSERT_TRUE(ok.ok());
  const HeldConfig& h = **ok;
  auto expect_error = [&](const v1::EndpointDelta& d, const std::string& what) {
    auto r = h.Apply(d);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_NE(r.error().find(what), std::string::npos) << r.error();
  };
  expect_error(Delta("base", "v3", {{"ns/svc-2:80", 1}}), "base version mismatch");
  expect_error(Delta("v2", "", {{"ns/svc-2:80", 1}}), "no version");
  expect_error(Delta("v2", "v3", {{"ns/svc-2:80", 1}, {"ns/nope:80", 1}}), "unknown cluster ns/nope:80");
  expect_error(Delta("v2", "v3", {{"ns/svc-2:80", 1}, {"ns/svc-2:80", 2}}), "twice");
  v1::EndpointDelta bad = Delta("v2", "v3", {{"ns/svc-2:80", 1}});
  bad.mutable_clusters(0)->mutable_endpoints(0)->set_port(0);
  expect_error(bad, "port 0");
  EXPECT_EQ(h.version(), "v2");
  EXPECT_EQ(h.overlaid(), 1u);
  EXPECT_EQ(h.endpoints(2 + 2).size(), 3);
}

// Oracle: a chain of random deltas through HeldConfig equals the same chain through
// the copying merge, snapshot for snapshot.
TEST(HeldConfig, ChainOfDeltasMatchesTheCopyingMerge) {
  std::mt19937 rng(7);
  auto snap = World(200);
  std::shared_ptr<const HeldConfig> held = std::make_shared<const HeldConfig>(snap);
  std::shared_ptr<const v1::Snapshot> reference = snap;
  for (int round = 0; round < 100; ++round) {
    std::vector<std::pair<std::string, int>> changes;
    std::set<int> picked;
    const int n = 1 + static_cast<int>(rng() % 5);
    for (int i = 0; i < n; ++i) {
      const int c = static_cast<int>(rng() % static_cast<unsigned>(snap->clusters_size()));
      if (picked.insert(c).second) changes.push_back({snap->clusters(c).name(), static_cast<int>(rng() % 4)});
    }
    v1::EndpointDelta d = Delta(held->version(), "r" + std::to_string(round), changes);
    auto next = held->Apply(d);
    ASSERT_TRUE(next.ok()) << next.error();
    auto want = ApplyEndpointDelta(*reference, d);
    ASSERT_TRUE(want.ok()) << want.error();
    reference = std::move(want.value());
    held = std::move(next.value());
    ASSERT_TRUE(SameSnapshot(*held->Materialize(), *reference)) << "round " << round;
    ASSERT_EQ(held->base().get(), snap.get());
  }
}

}  // namespace
}  // namespace keel
