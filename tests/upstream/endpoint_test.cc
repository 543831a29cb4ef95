// EndpointSet parsing and routable-set rules; ClusterTable deltas.
#include "dataplane/upstream/endpoint.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "dataplane/upstream/cluster.h"
#include "tests/upstream/fixtures.h"

namespace keel::upstream {
namespace {

using fixtures::MakeCluster;
using fixtures::MakeEndpoint;

TEST(EndpointSet, ParsesV4AndV6IntoConnectableAddresses) {
  cfg::Cluster c;
  *c.add_endpoints() = MakeEndpoint("10.1.2.3", 8080);
  *c.add_endpoints() = MakeEndpoint("fd00:0:0::1", 443);
  auto set = EndpointSet::Build(c.endpoints());
  ASSERT_TRUE(set.ok()) << set.error();
  const Endpoint& v4 = (**set)[0];
  ASSERT_EQ(v4.addr.ss_family, AF_INET);
  EXPECT_EQ(v4.addr_len, sizeof(sockaddr_in));
  const auto* sin = reinterpret_cast<const sockaddr_in*>(&v4.addr);
  EXPECT_EQ(ntohs(sin->sin_port), 8080);
  EXPECT_EQ(ntohl(sin->sin_addr.s_addr), 0x0A010203u);
  EXPECT_EQ(v4.key, "10.1.2.3:8080");
  const Endpoint& v6 = (**set)[1];
  ASSERT_EQ(v6.addr.ss_family, AF_INET6);
  EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in6*>(&v6.addr)->sin6_port), 443);
  EXPECT_EQ(v6.key, "[fd00::1]:443");  // canonical form
}

TEST(EndpointSet, RejectsBadInput) {
  for (const auto& [addr, port] : std::vector<std::pair<std::string, uint32_t>>{
           {"web-0", 80}, {"10.0.0.300", 80}, {"", 80}, {"10.0.0.1", 0}, {"10.0.0.1", 70000}}) {
    cfg::Cluster c;
    *c.add_endpoints() = MakeEndpoint(addr, port);
    EXPECT_FALSE(EndpointSet::Build(c.endpoints()).ok()) << addr << ":" << port;
  }
  cfg::Cluster dup;
  *dup.add_endpoints() = MakeEndpoint("fd00::1", 80);
  *dup.add_endpoints() = MakeEndpoint("fd00:0::1", 80);
  auto r = EndpointSet::Build(dup.endpoints());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("duplicate endpoint [fd00::1]:80"), std::string::npos) << r.error();
}

TEST(EndpointSet, ReadyEndpointsAreRoutable) {
  cfg::Cluster c;
  *c.add_endpoints() = MakeEndpoint("10.0.0.1", 80, 1, true);
  auto t = MakeEndpoint("10.0.0.2", 80, 1, false);
  t.set_serving(true);
  t.set_terminating(true);
  *c.add_endpoints() = t;
  *c.add_endpoints() = MakeEndpoint("10.0.0.3", 80, 1, false);
  auto set = EndpointSet::Build(c.endpoints());
  ASSERT_TRUE(set.ok());
  ASSERT_EQ((*set)->routable().size(), 1u);
  EXPECT_EQ((*set)->routable()[0], 0u);
  EXPECT_FALSE((*set)->using_fallback());
}

TEST(EndpointSet, FallsBackToServingTerminatingWhenNoneReady) {
  cfg::Cluster c;
  auto t = MakeEndpoint("10.0.0.1", 80, 1, false);
  t.set_serving(true);
  t.set_terminating(true);
  *c.add_endpoints() = t;
  *c.add_endpoints() = MakeEndpoint("10.0.0.2", 80, 1, false);  // not serving: never
  auto set = EndpointSet::Build(c.endpoints());
  ASSERT_TRUE(set.ok());
  ASSERT_EQ((*set)->routable().size(), 1u);
  EXPECT_EQ((*set)->routable()[0], 0u);
  EXPECT_TRUE((*set)->using_fallback());

  cfg::Cluster none;
  *none.add_endpoints() = MakeEndpoint("10.0.0.2", 80, 1, false);
  auto empty = EndpointSet::Build(none.endpoints());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE((*empty)->routable().empty());
}

TEST(EndpointSet, StickyValuesAreStableAndFindable) {
  auto a = EndpointSet::Build(MakeCluster(cfg::LbPolicy::ROUND_ROBIN, 5).endpoints());
  auto b = EndpointSet::Build(MakeCluster(cfg::LbPolicy::ROUND_ROBIN, 3).endpoints());
  ASSERT_TRUE(a.ok() && b.ok());
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ((**a)[i].sticky_value, (**b)[i].sticky_value);
    EXPECT_EQ((**a)[i].sticky_value.size(), 16u);
    uint64_t h;
    ASSERT_TRUE(ParseStickyValue((**a)[i].sticky_value, &h));
    EXPECT_EQ((*a)->FindBySticky(h), i);
  }
  uint64_t h;
  EXPECT_FALSE(ParseStickyValue("xyz", &h));
  EXPECT_FALSE(ParseStickyValue("ABCDEF0123456789", &h));  // we only issue lower-case
}

TEST(ClusterTable, DeltaReplacesOnlyNamedClustersAndKeepsIndices) {
  cfg::Snapshot s;
  *s.add_clusters() = MakeCluster(cfg::LbPolicy::ROUND_ROBIN, 2);
  auto c2 = MakeCluster(cfg::LbPolicy::MAGLEV, 3);
  c2.set_name("default/api:80");
  *s.add_clusters() = c2;
  auto table = ClusterTable::Build(s);
  ASSERT_TRUE(table.ok()) << table.error();
  EXPECT_EQ((*table)->Find("default/api:80"), 1);

  cfg::EndpointDelta d;
  auto* ce = d.add_clusters();
  ce->set_cluster("default/api:80");
  *ce->add_endpoints() = MakeEndpoint("10.9.9.9", 80);
  auto next = (*table)->ApplyDelta(d);
  ASSERT_TRUE(next.ok()) << next.error();
  EXPECT_EQ((*next)->at(0), (*table)->at(0));  // untouched: same object
  EXPECT_EQ((*next)->at(1)->endpoints().size(), 1u);
  EXPECT_EQ((*next)->at(1)->lb().kind(), cfg::LbPolicy::MAGLEV);
  ASSERT_NE((*next)->at(1)->maglev(), nullptr);
  EXPECT_EQ((*table)->at(1)->endpoints().size(), 3u);  // the old table is unchanged

  ce->set_cluster("default/nope:80");
  auto bad = (*table)->ApplyDelta(d);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("unknown cluster default/nope:80"), std::string::npos);

  ce->set_cluster("default/api:80");
  ce->mutable_endpoints(0)->set_address("not-an-ip");
  EXPECT_FALSE((*table)->ApplyDelta(d).ok());
}

TEST(ClusterTable, RebuildReusesUnchangedClusters) {
  cfg::Snapshot s;
  auto api = MakeCluster(cfg::LbPolicy::MAGLEV, 3);
  api.set_name("default/api:80");
  *s.add_clusters() = api;
  *s.add_clusters() = MakeCluster(cfg::LbPolicy::ROUND_ROBIN, 2);
  auto first = ClusterTable::Build(s).value();

  // The config client merges a delta into a full snapshot: only api's endpoints change.
  cfg::Snapshot merged = s;
  *merged.mutable_clusters(0)->add_endpoints() = MakeEndpoint("10.9.9.9", 80);
  auto second = ClusterTable::Build(merged, first.get()).value();
  EXPECT_NE(second->at(0), first->at(0));
  EXPECT_EQ(second->at(0)->endpoints().size(), 4u);
  EXPECT_EQ(second->at(1), first->at(1));  // reused: no rebuild, workers skip it

  // A settings change is a change too.
  merged.mutable_clusters(1)->mutable_lb()->set_kind(cfg::LbPolicy::RANDOM);
  auto third = ClusterTable::Build(merged, second.get()).value();
  EXPECT_NE(third->at(1), second->at(1));
  EXPECT_EQ(third->at(0), second->at(0));

  // The delta path and the full path agree, so they can be mixed.
  cfg::EndpointDelta d;
  auto* ce = d.add_clusters();
  ce->set_cluster("default/api:80");
  *ce->mutable_endpoints() = merged.clusters(0).endpoints();
  auto via_delta = first->ApplyDelta(d).value();
  EXPECT_EQ(via_delta->at(0)->fingerprint(), second->at(0)->fingerprint());
}

TEST(ClusterTable, RejectsDuplicateNames) {
  cfg::Snapshot s;
  *s.add_clusters() = MakeCluster(cfg::LbPolicy::ROUND_ROBIN, 1);
  *s.add_clusters() = MakeCluster(cfg::LbPolicy::ROUND_ROBIN, 1);
  auto t = ClusterTable::Build(s);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().find("duplicate cluster"), std::string::npos);
}

}  // namespace
}  // namespace keel::upstream
