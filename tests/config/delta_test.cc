// Endpoint deltas end to end without a network: the server's digests and delta
// builder against the client's merge, with the target snapshot as the oracle.
#include <gtest/gtest.h>

#include <random>

#include "controller/serve/published.h"
#include "dataplane/config/validate.h"
#include "tests/config/fixtures.h"

namespace keel {
namespace {

using serve::MakeEndpointDelta;
using serve::PublishedSnapshot;
using testing::MakeSnapshot;
using testing::Shared;
namespace v1 = ::keel::config::v1;

TEST(PublishedSnapshot, StructureIgnoresEndpointsVersionAndBuildTime) {
  PublishedSnapshot a(Shared(MakeSnapshot("v1", 1)));
  PublishedSnapshot b(Shared(MakeSnapshot("v2", 7)));
  EXPECT_EQ(a.structure_digest(), b.structure_digest());
  ASSERT_EQ(a.endpoint_digests().size(), 2u);
  EXPECT_EQ(a.endpoint_digests()[0], b.endpoint_digests()[0]);  // api unchanged
  EXPECT_NE(a.endpoint_digests()[1], b.endpoint_digests()[1]);  // web changed
}

TEST(PublishedSnapshot, StructureSeesRoutesClustersAndClusterSettings) {
  PublishedSnapshot base(Shared(MakeSnapshot("v1")));
  EXPECT_NE(base.structure_digest(),
            PublishedSnapshot(Shared(MakeSnapshot("v2", 1, "/app"))).structure_digest());
  v1::Snapshot lb = MakeSnapshot("v3");
  lb.mutable_clusters(1)->mutable_lb()->set_kind(v1::LbPolicy::LEAST_REQUEST);
  EXPECT_NE(base.structure_digest(), PublishedSnapshot(Shared(lb)).structure_digest());
  v1::Snapshot more = MakeSnapshot("v4");
  more.add_clusters()->set_name("default/zzz:1");
  EXPECT_NE(base.structure_digest(), PublishedSnapshot(Shared(more)).structure_digest());
}

TEST(PublishedSnapshot, EndpointBoundariesMatter) {
  // Same bytes split differently between endpoints must not collide.
  v1::Snapshot a = MakeSnapshot("a"), b = MakeSnapshot("b");
  a.mutable_clusters(1)->mutable_endpoints(0)->set_zone("zone-1");
  b.mutable_clusters(1)->mutable_endpoints(1)->set_zone("zone-1");
  EXPECT_NE(PublishedSnapshot(Shared(a)).endpoint_digests()[1],
            PublishedSnapshot(Shared(b)).endpoint_digests()[1]);
}

TEST(MakeEndpointDelta, NamesOnlyChangedClusters) {
  PublishedSnapshot a(Shared(MakeSnapshot("v1", 1)));
  PublishedSnapshot b(Shared(MakeSnapshot("v2", 5)));
  auto message = MakeEndpointDelta(a, b);
  ASSERT_TRUE(message.has_value());
  const v1::EndpointDelta& delta = message->update().endpoint_delta();
  EXPECT_EQ(delta.base_version(), "v1");
  EXPECT_EQ(delta.version(), "v2");
  ASSERT_EQ(delta.clusters_size(), 1);
  EXPECT_EQ(delta.clusters(0).cluster(), "default/web:80");
  EXPECT_EQ(delta.clusters(0).endpoints(0).address(), "10.0.0.5");
  EXPECT_FALSE(MakeEndpointDelta(a, PublishedSnapshot(Shared(MakeSnapshot("v3", 1, "/x")))).has_value());
}

// Oracle: for random endpoint-only edits, base + delta == target exactly.
TEST(EndpointDeltaRoundTrip, MergedEqualsTarget) {
  std::mt19937 rng(42);
  v1::Snapshot base = MakeSnapshot("base");
  for (int c = 0; c < 20; ++c) {
    v1::Cluster* cluster = base.add_clusters();
    cluster->set_name("ns/svc-" + std::to_string(c) + ":80");
    for (int e = 0; e < 5; ++e) {
      v1::Endpoint* ep = cluster->add_endpoints();
      ep->set_address("10.1." + std::to_string(c) + "." + std::to_string(e));
      ep->set_port(80);
    }
  }
  PublishedSnapshot published_base(Shared(base));
  for (int round = 0; round < 50; ++round) {
    v1::Snapshot target = base;
    target.set_version("t" + std::to_string(round));
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < edits; ++i) {
      v1::Cluster* cluster = target.mutable_clusters(static_cast<int>(rng() % target.clusters_size()));
      switch (rng() % 3) {
        case 0:
          cluster->clear_endpoints();
          break;
        case 1: {
          v1::Endpoint* ep = cluster->add_endpoints();
          ep->set_address("10.9.9." + std::to_string(rng() % 250));
          ep->set_port(1 + static_cast<uint32_t>(rng() % 65535));
          ep->set_terminating(rng() % 2);
          break;
        }
        default:
          if (cluster->endpoints_size() > 0)
            cluster->mutable_endpoints(0)->set_ready(!cluster->endpoints(0).ready());
      }
    }
    auto message = MakeEndpointDelta(published_base, PublishedSnapshot(Shared(target)));
    ASSERT_TRUE(message.has_value());
    auto merged = dataplane::config::ApplyEndpointDelta(base, message->update().endpoint_delta());
    ASSERT_TRUE(merged.ok()) << merged.error();
    EXPECT_TRUE(testing::SameSnapshot(*merged.value(), target)) << "round " << round;
  }
}

TEST(ApplyEndpointDelta, RejectsWrongBaseUnknownClusterAndBadEndpoint) {
  v1::Snapshot held = MakeSnapshot("v1");
  v1::EndpointDelta delta;
  delta.set_base_version("v0");
  delta.set_version("v2");
  auto r = dataplane::config::ApplyEndpointDelta(held, delta);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("base version mismatch"), std::string::npos);

  delta.set_base_version("v1");
  delta.add_clusters()->set_cluster("default/nope:1");
  r = dataplane::config::ApplyEndpointDelta(held, delta);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("unknown cluster default/nope:1"), std::string::npos);

  delta.mutable_clusters(0)->set_cluster("default/web:80");
  delta.mutable_clusters(0)->add_endpoints()->set_address("10.0.0.1");  // port 0
  r = dataplane::config::ApplyEndpointDelta(held, delta);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("port 0"), std::string::npos);
}

TEST(ValidateSnapshot, AcceptsFixture) {
  EXPECT_TRUE(dataplane::config::ValidateSnapshot(MakeSnapshot("v1")).ok());
}

TEST(ValidateSnapshot, RejectsStructuralErrors) {
  struct Case {
    const char* name;
    std::function<void(v1::Snapshot*)> mutate;
    const char* want;
  };
  const Case cases[] = {
      {"no version", [](v1::Snapshot* s) { s->clear_version(); }, "no version"},
      {"duplicate vhost", [](v1::Snapshot* s) { *s->add_virtual_hosts() = s->virtual_hosts(0); },
       "virtual host name empty or repeated: 'a.example.test'"},
      {"duplicate cluster", [](v1::Snapshot* s) { *s->add_clusters() = s->clusters(0); }, "cluster name"},
      {"unknown cluster",
       [](v1::Snapshot* s) {
         s->mutable_virtual_hosts(1)->mutable_routes(0)->mutable_forward()->mutable_clusters(0)->set_cluster(
             "x/y:1");
       },
       "route 0 of vhost b.example.test: unknown cluster x/y:1"},
      {"default route unknown cluster",
       [](v1::Snapshot* s) {
         s->add_default_routes()->mutable_forward()->add_clusters()->set_cluster("gone");
       },
       "default routes: unknown cluster gone"},
      {"empty forward", [](v1::Snapshot* s) { s->add_default_routes()->mutable_forward(); },
       "forward names no cluster"},
      {"unknown certificate", [](v1::Snapshot* s) { s->mutable_virtual_hosts(0)->set_certificate("ns/tls"); },
       "unknown certificate ns/tls"},
      {"unknown default certificate", [](v1::Snapshot* s) { s->set_default_certificate("ns/def"); },
       "default certificate ns/def"},
      {"bad endpoint port",
       [](v1::Snapshot* s) { s->mutable_clusters(0)->mutable_endpoints(0)->set_port(70000); }, "port 70000"},
  };
  for (const Case& c : cases) {
    v1::Snapshot s = MakeSnapshot("v1");
    c.mutate(&s);
    Status status = dataplane::config::ValidateSnapshot(s);
    ASSERT_FALSE(status.ok()) << c.name;
    EXPECT_NE(status.error().find(c.want), std::string::npos) << c.name << ": " << status.error();
  }
}

}  // namespace
}  // namespace keel
