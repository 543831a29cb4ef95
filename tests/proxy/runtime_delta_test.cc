// Runtime::ApplyDelta: an endpoint delta shares the route table, access lists and every
// untouched cluster with its base, rebuilds only the named clusters, and reports which
// endpoint keys left them; bad deltas fail as a whole.
#include <gtest/gtest.h>

#include "dataplane/proxy/runtime.h"

namespace keel::proxy {
namespace {

namespace v1 = keel::config::v1;

void AddEndpoint(v1::Cluster* c, uint32_t port) {
  v1::Endpoint* e = c->add_endpoints();
  e->set_address("10.0.0.1");
  e->set_port(port);
  e->set_weight(1);
  e->set_ready(true);
  e->set_serving(true);
}

std::shared_ptr<const Runtime> Base() {
  auto s = std::make_shared<v1::Snapshot>();
  s->set_version("v1");
  for (const char* name : {"a", "b", "c"}) {
    v1::Cluster* c = s->add_clusters();
    c->set_name(name);
    AddEndpoint(c, 1000);
    AddEndpoint(c, 1001);
  }
  v1::VirtualHost* vh = s->add_virtual_hosts();
  vh->set_name("x.test");
  v1::Route* r = vh->add_routes();
  r->mutable_match()->set_path_kind(v1::RouteMatch::PREFIX);
  r->mutable_match()->set_path("/");
  r->mutable_forward()->add_clusters()->set_cluster("b");
  r->mutable_policy()->add_allow_cidrs("10.0.0.0/8");
  auto rt = Runtime::Build(s);
  EXPECT_TRUE(rt.ok()) << rt.error();
  return *rt;
}

v1::EndpointDelta Delta(std::initializer_list<uint32_t> b_ports) {
  v1::EndpointDelta d;
  d.set_base_version("v1");
  d.set_version("v2");
  v1::ClusterEndpoints* ce = d.add_clusters();
  ce->set_cluster("b");
  v1::Cluster tmp;
  for (uint32_t p : b_ports) AddEndpoint(&tmp, p);
  *ce->mutable_endpoints() = tmp.endpoints();
  return d;
}

std::shared_ptr<const v1::Snapshot> Merged(const Runtime& base, const v1::EndpointDelta& d) {
  auto s = std::make_shared<v1::Snapshot>(*base.snapshot);
  s->set_version(d.version());
  *s->mutable_clusters(1)->mutable_endpoints() = d.clusters(0).endpoints();
  return s;
}

TEST(RuntimeDelta, SharesEverythingButTheChangedCluster) {
  auto base = Base();
  auto d = Delta({1001, 1002});
  auto next = Runtime::ApplyDelta(*base, Merged(*base, d), d);
  ASSERT_TRUE(next.ok()) << next.error();
  const Runtime& rt = **next;
  EXPECT_EQ(rt.version(), "v2");
  EXPECT_EQ(rt.routes.get(), base->routes.get());  // no route table rebuild
  EXPECT_EQ(rt.access.get(), base->access.get());
  EXPECT_EQ(rt.certs.get(), base->certs.get());
  EXPECT_EQ(rt.clusters->at(0).get(), base->clusters->at(0).get());
  EXPECT_EQ(rt.clusters->at(2).get(), base->clusters->at(2).get());
  EXPECT_NE(rt.clusters->at(1).get(), base->clusters->at(1).get());
  ASSERT_EQ(rt.clusters->at(1)->endpoints().endpoints().size(), 2u);
  EXPECT_EQ(rt.clusters->at(1)->endpoints().endpoints()[1].key, "10.0.0.1:1002");
  ASSERT_TRUE(rt.delta);
  EXPECT_EQ(rt.delta->base_version, "v1");
  EXPECT_EQ(rt.delta->changed_clusters, std::vector<uint32_t>{1});
  EXPECT_EQ(rt.delta->removed_endpoints, std::unordered_set<std::string>{"10.0.0.1:1000"});
  EXPECT_FALSE(base->delta);

  // The shared routes and access lists still work through the new runtime.
  http1::RequestHead head;
  head.method = "GET";
  head.target = head.path = "/";
  head.host = "x.test";
  RouteDecision dec;
  rt.Route(head, "10.1.2.3", 0, &dec);
  EXPECT_EQ(dec.kind, RouteDecision::Kind::kForward);
  EXPECT_EQ(dec.cluster, 1u);
  RouteDecision denied;
  rt.Route(head, "192.168.0.1", 0, &denied);
  EXPECT_EQ(denied.status, 403);
}

TEST(RuntimeDelta, EmptyEndpointListGivesNoEndpoints) {
  auto base = Base();
  auto d = Delta({});
  auto next = Runtime::ApplyDelta(*base, Merged(*base, d), d);
  ASSERT_TRUE(next.ok()) << next.error();
  EXPECT_EQ((*next)->delta->removed_endpoints.size(), 2u);
  http1::RequestHead head;
  head.method = "GET";
  head.target = head.path = "/";
  head.host = "x.test";
  RouteDecision dec;
  (*next)->Route(head, "10.1.2.3", 0, &dec);
  EXPECT_EQ(dec.kind, RouteDecision::Kind::kNoEndpoints);
}

TEST(RuntimeDelta, BadDeltasFailWhole) {
  auto base = Base();
  auto wrong_base = Delta({1000});
  wrong_base.set_base_version("v0");
  EXPECT_FALSE(Runtime::ApplyDelta(*base, base->snapshot, wrong_base).ok());
  auto unknown = Delta({1000});
  unknown.mutable_clusters(0)->set_cluster("zzz");
  EXPECT_FALSE(Runtime::ApplyDelta(*base, base->snapshot, unknown).ok());
  auto dup = Delta({1000, 1000});
  EXPECT_FALSE(Runtime::ApplyDelta(*base, base->snapshot, dup).ok());
}

}  // namespace
}  // namespace keel::proxy
