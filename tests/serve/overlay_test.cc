// ConfigServer::PublishEndpointDelta: an endpoint-only change published as an overlay
// on the current snapshot (no copy) reaches connected dataplanes as a delta, reaches a
// dataplane that connects later as the merged full snapshot, and is refused when its
// base is not the current version.
#include <gtest/gtest.h>

#include <memory>

#include "controller/serve/config_server.h"
#include "controller/serve/published.h"
#include "dataplane/config/config_client.h"
#include "tests/config/fixtures.h"

namespace keel {
namespace {

using testing::MakeSnapshot;
using testing::Recorder;
using testing::SameSnapshot;
using testing::Shared;
using testing::WaitFor;
namespace v1 = ::keel::config::v1;

// The delta turning MakeSnapshot(base, 1) into MakeSnapshot(version, seed).
v1::EndpointDelta Delta(const std::string& base, const std::string& version, int seed) {
  v1::Snapshot target = MakeSnapshot(version, seed);
  v1::EndpointDelta d;
  d.set_base_version(base);
  d.set_version(version);
  d.set_built_at_unix_ms(target.built_at_unix_ms());
  v1::ClusterEndpoints* c = d.add_clusters();
  c->set_cluster("default/web:80");
  *c->mutable_endpoints() = target.clusters(1).endpoints();
  return d;
}

std::unique_ptr<dataplane::config::ConfigClient> Client(int port, const std::string& node, Recorder* rec) {
  dataplane::config::ClientOptions options;
  options.controller_address = "127.0.0.1:" + std::to_string(port);
  options.node_id = node;
  options.backoff_initial = std::chrono::milliseconds(20);
  auto client = std::make_unique<dataplane::config::ConfigClient>(options, rec->Fn());
  client->Start();
  return client;
}

TEST(PublishedOverlay, SharesBaseAndMergesOnDemand) {
  auto base_snapshot = Shared(MakeSnapshot("v1", 1));
  serve::PublishedSnapshot base(base_snapshot);
  serve::PublishedSnapshot next(base, Delta("v1", "v2", 5));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next.version(), "v2");
  EXPECT_EQ(next.structure_digest(), base.structure_digest());
  EXPECT_EQ(next.endpoint_digests()[0], base.endpoint_digests()[0]);  // api: untouched
  EXPECT_NE(next.endpoint_digests()[1], base.endpoint_digests()[1]);
  EXPECT_EQ(&next.endpoints(0), &base_snapshot->clusters(0).endpoints()) << "unchanged lists are shared";
  EXPECT_TRUE(SameSnapshot(next.snapshot(), MakeSnapshot("v2", 5)));
  // Digests equal a full publish of the same snapshot: deltas stay minimal.
  serve::PublishedSnapshot full(Shared(MakeSnapshot("v2", 5)));
  EXPECT_EQ(full.endpoint_digests(), next.endpoint_digests());
  // A chain of overlays keeps the earlier changes.
  serve::PublishedSnapshot third(next, Delta("v2", "v3", 9));
  EXPECT_TRUE(SameSnapshot(third.snapshot(), MakeSnapshot("v3", 9)));
  // An unknown cluster is refused.
  v1::EndpointDelta bad = Delta("v1", "v9", 2);
  bad.mutable_clusters(0)->set_cluster("default/nope:80");
  EXPECT_FALSE(serve::PublishedSnapshot(base, bad).ok());
}

TEST(PublishedOverlay, DeltaToConnectedFullToNewcomers) {
  serve::ConfigServer server;
  ASSERT_TRUE(server.Start(testing::Listen("127.0.0.1:0")).ok());
  server.Publish(Shared(MakeSnapshot("v1", 1)));
  Recorder early;
  auto a = Client(server.port(), "dp-a", &early);
  ASSERT_TRUE(WaitFor([&] { return a->version() == "v1"; }));

  EXPECT_FALSE(server.PublishEndpointDelta(Delta("v0", "v2", 5))) << "base is not current";
  EXPECT_EQ(server.current_version(), "v1");
  ASSERT_TRUE(server.PublishEndpointDelta(Delta("v1", "v2", 5)));
  EXPECT_EQ(server.current_version(), "v2");
  ASSERT_TRUE(WaitFor([&] { return a->version() == "v2"; }));
  EXPECT_TRUE(SameSnapshot(*a->snapshot(), MakeSnapshot("v2", 5)));
  EXPECT_EQ(a->delta_applied(), 1u);
  EXPECT_EQ(server.Stats().pushes_delta, 1u);

  Recorder late;
  auto b = Client(server.port(), "dp-b", &late);
  ASSERT_TRUE(WaitFor([&] { return b->version() == "v2"; }));
  EXPECT_TRUE(SameSnapshot(*b->snapshot(), MakeSnapshot("v2", 5)));
  EXPECT_EQ(b->delta_applied(), 0u);
  b->Stop();
  a->Stop();
  server.Stop();
}

}  // namespace
}  // namespace keel
