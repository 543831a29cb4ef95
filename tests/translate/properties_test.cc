// Properties of translation as a whole: input order never matters, one bad Ingress
// leaves everyone else's routes byte-identical, and the endpoint fast path gives
// exactly what a full translation gives.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "controller/store/store.h"
#include "controller/translate/translate.h"
#include "controller/translate/version.h"
#include "tests/translate/world.h"

namespace keel::translate {
namespace {

using nlohmann::json;
using testing::IngressJson;
using testing::Object;
using testing::ServiceJson;
using testing::SliceJson;
using testing::VariedWorld;

TranslateResult TranslateObjects(const std::vector<Object>& objects, bool via_upsert) {
  store::Store st;
  if (via_upsert) {
    for (const Object& o : objects) st.Upsert(o.kind, o.json);
  } else {
    std::map<store::Kind, std::vector<json>> by_kind;
    for (const Object& o : objects) by_kind[o.kind].push_back(o.json);
    for (store::Kind k : store::kAllKinds) st.Replace(k, by_kind[k]);
  }
  return Translate(st.View(), TranslateOptions{});
}

TEST(Properties, InputOrderNeverChangesTheSnapshot) {
  std::vector<Object> world = VariedWorld(40);
  TranslateResult ref = TranslateObjects(world, false);
  ASSERT_GT(ref.snapshot.virtual_hosts_size(), 20);
  ASSERT_FALSE(ref.diagnostics.empty());  // the world has conflicts
  const std::string ref_bytes = DeterministicBytes(ref.snapshot);
  std::mt19937 rng(12345);
  for (int round = 0; round < 6; ++round) {
    std::shuffle(world.begin(), world.end(), rng);
    TranslateResult r = TranslateObjects(world, round % 2 == 0);
    EXPECT_EQ(r.snapshot.version(), ref.snapshot.version()) << "round " << round;
    EXPECT_EQ(DeterministicBytes(r.snapshot), ref_bytes) << "round " << round;
    EXPECT_EQ(r.diagnostics, ref.diagnostics) << "round " << round;
    EXPECT_EQ(r.owned_ingresses, ref.owned_ingresses);
  }
}

TEST(Properties, VersionChangesWithContentOnly) {
  std::vector<Object> world = VariedWorld(10);
  TranslateResult a = TranslateObjects(world, false);
  TranslateResult b = TranslateObjects(world, false);
  EXPECT_EQ(a.snapshot.version(), b.snapshot.version());
  world.push_back(
      {store::Kind::Ingress, IngressJson("ns0", "extra", "extra.example.test", {"/"}, "svc0", 80)});
  TranslateResult c = TranslateObjects(world, false);
  EXPECT_NE(a.snapshot.version(), c.snapshot.version());
}

std::map<std::string, std::string> VHostBytes(const config::v1::Snapshot& s) {
  std::map<std::string, std::string> out;
  for (const auto& v : s.virtual_hosts()) out[v.name()] = DeterministicBytes(v);
  out["<default>"] = "";
  for (const auto& r : s.default_routes()) out["<default>"] += DeterministicBytes(r);
  return out;
}

std::map<std::string, std::string> ClusterBytes(const config::v1::Snapshot& s) {
  std::map<std::string, std::string> out;
  for (const auto& c : s.clusters()) out[c.name()] = DeterministicBytes(c);
  return out;
}

TEST(Properties, OneBadIngressLeavesOthersByteIdentical) {
  std::vector<Object> good = VariedWorld(12);
  TranslateResult base = TranslateObjects(good, false);
  const auto base_vhosts = VHostBytes(base.snapshot);
  const auto base_clusters = ClusterBytes(base.snapshot);

  json bad_host = IngressJson("ns0", "bad-host", "10.0.0.1", {"/"}, "svc0", 80);
  json bad_regex = IngressJson("ns0", "bad-regex", "bad.example.test", {"/(unclosed", "/ok"}, "svc0", 80);
  json unknown_svc = IngressJson("ns0", "unknown", "unknown.example.test", {"/"}, "ghost", 80);
  json bad_annotations =
      IngressJson("ns0", "bad-ann", "ann.example.test", {"/"}, "svc0", 80, "2026-01-01T00:00:00Z",
                  {{"nginx.ingress.kubernetes.io/proxy-body-size", "lots"},
                   {"nginx.ingress.kubernetes.io/whitelist-source-range", "nope"},
                   {"nginx.ingress.kubernetes.io/configuration-snippet", "return 200;"}});
  // Newer than everything in the world: loses every conflict on a good host.
  json conflicting = IngressJson("ns3", "latecomer", "h0.example.test", {"/", "/api/v0"}, "svc3", 80,
                                 "2027-01-01T00:00:00Z");
  json malformed = IngressJson("ns0", "malformed", "m.example.test", {"/"}, "svc0", 80);
  malformed["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"]["number"] = "80";
  json missing_tls = IngressJson("ns0", "tls-missing", "tls.example.test", {"/"}, "svc0", 80);
  missing_tls["spec"]["tls"] = {{{"hosts", {"tls.example.test"}}, {"secretName", "absent"}}};
  json orphan_canary = IngressJson(
      "ns0", "orphan-canary", "h0.example.test", {"/nowhere"}, "svc0", 80, "2026-01-01T00:00:00Z",
      {{"nginx.ingress.kubernetes.io/canary", "true"}, {"nginx.ingress.kubernetes.io/canary-weight", "50"}});

  for (const json& bad : {bad_host, bad_regex, unknown_svc, bad_annotations, conflicting, malformed,
                          missing_tls, orphan_canary}) {
    std::vector<Object> world = good;
    world.push_back({store::Kind::Ingress, bad});
    TranslateResult r = TranslateObjects(world, false);
    const std::string who = bad["metadata"]["name"].get<std::string>();
    auto vhosts = VHostBytes(r.snapshot);
    for (const auto& [name, bytes] : base_vhosts) {
      ASSERT_EQ(vhosts.count(name), 1u) << who << " removed host " << name;
      EXPECT_EQ(vhosts[name], bytes) << who << " changed host " << name;
    }
    auto clusters = ClusterBytes(r.snapshot);
    for (const auto& [name, bytes] : base_clusters)
      EXPECT_EQ(clusters[name], bytes) << who << " changed " << name;
    bool blamed = std::any_of(r.diagnostics.begin(), r.diagnostics.end(),
                              [&who](const Diagnostic& d) { return d.name == who; });
    EXPECT_TRUE(blamed) << who << " got no diagnostic";
    for (const Diagnostic& d : r.diagnostics) {
      if (d.name != who) {
        EXPECT_TRUE(std::binary_search(base.diagnostics.begin(), base.diagnostics.end(), d))
            << who << " caused a diagnostic on " << d.name << ": " << d.message;
      }
    }
  }
}

class FastPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.Replace(store::Kind::IngressClass,
                   {testing::IngressClassJson("keel", "keel.dev/ingress-controller")});
    std::vector<json> services, slices, ingresses;
    for (int i = 0; i < 20; ++i) {
      const std::string svc = "svc" + std::to_string(i);
      services.push_back(ServiceJson("app", svc, 80, 8080));
      slices.push_back(SliceJson("app", svc + "-a", svc, 8080, {"10.0." + std::to_string(i) + ".1"}));
      json ann = json::object();
      if (i % 2 == 0)
        ann["keel.dev/load-balance"] = "peak_ewma";  // a "~variant" cluster beside the plain one
      ingresses.push_back(IngressJson("app", "ing" + std::to_string(i),
                                      "h" + std::to_string(i) + ".example.test", {"/"}, svc, 80,
                                      "2026-01-01T00:00:00Z", ann));
      ingresses.push_back(IngressJson("app", "plain" + std::to_string(i),
                                      "p" + std::to_string(i) + ".example.test", {"/"}, svc, 80));
    }
    store_.Replace(store::Kind::Service, services);
    store_.Replace(store::Kind::EndpointSlice, slices);
    store_.Replace(store::Kind::Ingress, ingresses);
    store::StoreChanges drained;
    prev_ = Translate(store_.View(&drained), TranslateOptions{});
  }

  // Runs the fast path for what changed since SetUp and checks it against a full run.
  EndpointUpdate CheckAgainstFull() {
    store::StoreChanges changes;
    store::StoreView view = store_.View(&changes);
    EXPECT_TRUE(!changes.Any() || changes.OnlyEndpointSlices());
    std::vector<store::ObjectRef> services(changes.endpoint_services.begin(),
                                           changes.endpoint_services.end());
    EndpointUpdate u = UpdateEndpoints(view, prev_, services);
    EXPECT_FALSE(u.needs_full_translation);
    EXPECT_EQ(u.delta.base_version(), prev_.snapshot.version());
    TranslateResult fast = prev_;
    EXPECT_TRUE(ApplyEndpointUpdate(u, &fast));
    TranslateResult full = Translate(view, TranslateOptions{});
    EXPECT_EQ(fast.snapshot.version(), full.snapshot.version());
    EXPECT_EQ(DeterministicBytes(fast.snapshot), DeterministicBytes(full.snapshot));
    EXPECT_EQ(u.delta.version(), full.snapshot.version());
    EXPECT_EQ(fast.digests.clusters, full.digests.clusters);
    return u;
  }

  std::vector<std::string> DeltaClusters(const EndpointUpdate& u) {
    std::vector<std::string> names;
    for (const auto& c : u.delta.clusters()) names.push_back(c.cluster());
    return names;
  }

  store::Store store_;
  TranslateResult prev_;
};

TEST_F(FastPathTest, ChangedEndpointsMatchFullTranslation) {
  store_.Upsert(store::Kind::EndpointSlice,
                SliceJson("app", "svc3-a", "svc3", 8080, {"10.0.3.1", "10.0.3.9"}));
  store_.Upsert(store::Kind::EndpointSlice, SliceJson("app", "svc4-b", "svc4", 8080, {}, {"10.0.4.7"}));
  store_.Remove(store::Kind::EndpointSlice, "app", "svc7-a");
  EndpointUpdate u = CheckAgainstFull();
  // svc3 and svc7 have one cluster each; svc4 (even) also has its peak_ewma variant.
  EXPECT_EQ(DeltaClusters(u).size(), 4u);
  for (const std::string& name : DeltaClusters(u)) {
    EXPECT_TRUE(name.rfind("app/svc3:80", 0) == 0 || name.rfind("app/svc4:80", 0) == 0 ||
                name.rfind("app/svc7:80", 0) == 0)
        << name;
  }
  EXPECT_NE(u.delta.version(), prev_.snapshot.version());
}

TEST_F(FastPathTest, SliceMovingBetweenServices) {
  store_.Upsert(store::Kind::EndpointSlice, SliceJson("app", "svc5-a", "svc6", 8080, {"10.0.5.1"}));
  EndpointUpdate u = CheckAgainstFull();
  EXPECT_FALSE(DeltaClusters(u).empty());
}

TEST_F(FastPathTest, NoOpSliceChangeKeepsTheVersion) {
  // Same endpoints, new resourceVersion: the store drops it, nothing to do.
  json same = SliceJson("app", "svc1-a", "svc1", 8080, {"10.0.1.1"});
  same["metadata"]["resourceVersion"] = "999";
  store_.Upsert(store::Kind::EndpointSlice, same);
  EndpointUpdate u = CheckAgainstFull();
  EXPECT_TRUE(u.delta.clusters().empty());
  EXPECT_EQ(u.delta.version(), prev_.snapshot.version());
  // Reported as changed but identical in effect (a second slice with no endpoints).
  store_.Upsert(store::Kind::EndpointSlice, SliceJson("app", "svc1-empty", "svc1", 8080, {}));
  u = CheckAgainstFull();
  EXPECT_TRUE(u.delta.clusters().empty());
}

TEST_F(FastPathTest, LostServicePortNeedsFullTranslation) {
  store::StoreView view = store_.View();
  store_.Upsert(store::Kind::Service, ServiceJson("app", "svc2", 81, 8080));
  store::StoreView after = store_.View();
  EndpointUpdate u = UpdateEndpoints(after, prev_, {{"app", "svc2"}});
  EXPECT_TRUE(u.needs_full_translation);
  EXPECT_TRUE(u.delta.clusters().empty());
  TranslateResult unchanged = prev_;
  EXPECT_FALSE(ApplyEndpointUpdate(u, &unchanged));
  EXPECT_EQ(unchanged.snapshot.version(), prev_.snapshot.version());
}

TEST_F(FastPathTest, UpdatesOnlyApplyToTheirBase) {
  store_.Upsert(store::Kind::EndpointSlice, SliceJson("app", "svc3-a", "svc3", 8080, {"10.0.3.7"}));
  EndpointUpdate u = UpdateEndpoints(store_.View(), prev_, {{"app", "svc3"}});
  ASSERT_EQ(u.delta.clusters_size(), 1);
  TranslateResult other = prev_;
  other.snapshot.set_version("something-else");
  EXPECT_FALSE(ApplyEndpointUpdate(u, &other));
  // A bare snapshot without digests cannot take the fast path.
  TranslateResult bare;
  *bare.snapshot.mutable_clusters() = prev_.snapshot.clusters();
  EXPECT_TRUE(UpdateEndpoints(store_.View(), bare, {{"app", "svc3"}}).needs_full_translation);
}

}  // namespace
}  // namespace keel::translate
