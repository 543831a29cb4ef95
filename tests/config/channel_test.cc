// ConfigServer and ConfigClient over real gRPC on 127.0.0.1:0, in one process.
#include <gtest/gtest.h>

#include <memory>

#include "controller/serve/config_server.h"
#include "dataplane/config/config_client.h"
#include "tests/config/fixtures.h"

namespace keel {
namespace {

using dataplane::config::ClientOptions;
using dataplane::config::ConfigClient;
using serve::ConfigServer;
using serve::DataplaneInfo;
using testing::MakeSnapshot;
using testing::Recorder;
using testing::SameSnapshot;
using testing::Shared;
using testing::WaitFor;

class ChannelTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(StartServer(&server_, "127.0.0.1:0")); }

  static bool StartServer(ConfigServer* server, const std::string& address) {
    Status status = server->Start(testing::Listen(address));
    EXPECT_TRUE(status.ok()) << status.error();
    return status.ok();
  }

  std::unique_ptr<ConfigClient> NewClient(const std::string& node, Recorder* recorder, int port = 0) {
    ClientOptions options;
    options.controller_address = "127.0.0.1:" + std::to_string(port ? port : server_.port());
    options.node_id = node;
    options.build_version = "test-build";
    options.backoff_initial = std::chrono::milliseconds(20);
    options.backoff_max = std::chrono::milliseconds(200);
    auto client = std::make_unique<ConfigClient>(options, recorder->Fn());
    client->Start();
    return client;
  }

  std::optional<DataplaneInfo> Info(const std::string& node, const ConfigServer& server) const {
    for (DataplaneInfo& info : server.Dataplanes()) {
      if (info.node_id == node) return info;
    }
    return std::nullopt;
  }
  std::optional<DataplaneInfo> Info(const std::string& node) const { return Info(node, server_); }

  bool Acked(const std::string& node, const std::string& version) const {
    auto info = Info(node);
    return info && info->acked_version == version && info->inflight_version.empty();
  }

  ConfigServer server_;
};

TEST_F(ChannelTest, FirstSnapshotDeliveredAndAcked) {
  auto v1 = Shared(MakeSnapshot("v1"));
  server_.Publish(v1);
  Recorder rec;
  auto client = NewClient("dp-1", &rec);
  ASSERT_TRUE(WaitFor([&] { return Acked("dp-1", "v1"); }));
  EXPECT_TRUE(client->connected());
  EXPECT_TRUE(client->has_snapshot());
  EXPECT_EQ(client->version(), "v1");
  EXPECT_GT(client->last_apply_unix_ms(), 0);
  EXPECT_TRUE(SameSnapshot(*client->snapshot(), *v1));
  EXPECT_EQ(rec.applied(), std::vector<std::string>{"v1"});
  auto info = Info("dp-1");
  EXPECT_EQ(info->build_version, "test-build");
  EXPECT_EQ(info->pushes_full, 1u);
  EXPECT_LE(info->connected_since, std::chrono::system_clock::now());
  auto stats = server_.Stats();
  EXPECT_EQ(stats.connected, 1u);
  EXPECT_EQ(stats.acks, 1u);
  EXPECT_EQ(stats.current_version, "v1");
}

TEST_F(ChannelTest, ClientConnectedBeforeFirstPublishWaitsThenApplies) {
  Recorder rec;
  auto client = NewClient("dp-1", &rec);
  ASSERT_TRUE(WaitFor([&] { return client->connected() && Info("dp-1").has_value(); }));
  EXPECT_FALSE(client->has_snapshot());
  server_.Publish(Shared(MakeSnapshot("v1")));
  ASSERT_TRUE(WaitFor([&] { return client->version() == "v1"; }));
}

TEST_F(ChannelTest, EndpointOnlyChangeTravelsAsDeltaAndRouteChangeAsFull) {
  server_.Publish(Shared(MakeSnapshot("v1", 1)));
  Recorder rec;
  auto client = NewClient("dp-1", &rec);
  ASSERT_TRUE(WaitFor([&] { return Acked("dp-1", "v1"); }));

  auto v2 = Shared(MakeSnapshot("v2", 4));
  server_.Publish(v2);
  ASSERT_TRUE(WaitFor([&] { return Acked("dp-1", "v2"); }));
  EXPECT_EQ(client->delta_applied(), 1u);
  EXPECT_TRUE(SameSnapshot(*client->snapshot(), *v2));
  EXPECT_TRUE(SameSnapshot(*rec.last(), *v2));

  auto v3 = Shared(MakeSnapshot("v3", 4, "/shop"));
  server_.Publish(v3);
  ASSERT_TRUE(WaitFor([&] { return Acked("dp-1", "v3"); }));
  EXPECT_EQ(client->full_applied(), 2u);
  EXPECT_EQ(client->delta_applied(), 1u);
  EXPECT_TRUE(SameSnapshot(*client->snapshot(), *v3));
  EXPECT_EQ(server_.Stats().pushes_full, 2u);
  EXPECT_EQ(server_.Stats().pushes_delta, 1u);
}

TEST_F(ChannelTest, SecondClientJoinsAndGetsFull) {
  server_.Publish(Shared(MakeSnapshot("v1", 1)));
  Recorder rec1, rec2;
  auto c1 = NewClient("dp-1", &rec1);
  ASSERT_TRUE(WaitFor([&] { return Acked("dp-1", "v1"); }));
  auto v2 = Shared(MakeSnapshot("v2", 2));
  server_.Publish(v2);
  ASSERT_TRUE(WaitFor([&] { return Acked("dp-1", "v2"); }));
  auto c2 = NewClient("dp-2", &rec2);
  ASSERT_TRUE(WaitFor([&] { return Acked("dp-2", "v2"); }));
  EXPECT_EQ(c2->full_applied(), 1u);
  EXPECT_EQ(c2->delta_applied(), 0u);
  EXPECT_EQ(c1->delta_applied(), 1u);
  EXPECT_TRUE(SameSnapshot(*c2->snapshot(), *v2));
  EXPECT_EQ(server_.Stats().connected, 2u);
}

TEST_F(ChannelTest, ManyDataplanesConvergeOnEveryChange) {
  constexpr int kDataplanes = 12;
  server_.Publish(Shared(MakeSnapshot("v1", 1)));
  std::vector<std::unique_ptr<Recorder>> recs;
  std::vector<std::unique_ptr<ConfigClient>> clients;
  for (int i = 0; i < kDataplanes; ++i) {
    recs.push_back(std::make_unique<Recorder>());
    clients.push_back(NewClient("dp-" + std::to_string(i), recs.back().get()));
  }
  auto all_acked = [&](const std::string& version) {
    auto dataplanes = server_.Dataplanes();
    if (dataplanes.size() != kDataplanes) return false;
    for (const DataplaneInfo& info : dataplanes) {
      if (info.acked_version != version || !info.inflight_version.empty()) return false;
    }
    return true;
  };
  ASSERT_TRUE(WaitFor([&] { return all_acked("v1"); }));
  server_.Publish(Shared(MakeSnapshot("v2", 2)));
  ASSERT_TRUE(WaitFor([&] { return all_acked("v2"); }));
  server_.Publish(Shared(MakeSnapshot("v3", 2, "/v3")));
  ASSERT_TRUE(WaitFor([&] { return all_acked("v3"); }));
  auto stats = server_.Stats();
  EXPECT_EQ(stats.connected, static_cast<uint64_t>(kDataplanes));
  EXPECT_EQ(stats.pushes_delta, static_cast<uint64_t>(kDataplanes));
  EXPECT_EQ(stats.pushes_full, static_cast<uint64_t>(2 * kDataplanes));
  for (auto& client : clients) EXPECT_EQ(client->version(), "v3");
}

TEST_F(ChannelTest, ApplyErrorIsNackedAndOldVersionKept) {
  server_.Publish(Shared(MakeSnapshot("v1", 1)));
  Recorder rec;
  rec.Reject("v2", "route 0 of vhost a.example.test: bad regex");
  auto client = NewClient("dp-1", &rec);
  ASSERT_TRUE(WaitFor([&] { return Acked("dp-1", "v1"); }));

  server_.Publish(Shared(MakeSnapshot("v2", 1, "/(")));
  ASSERT_TRUE(WaitFor(
      [&] { return Info("dp-1") && Info("dp-1")->nacks == 1 && Info("dp-1")->inflight_version.empty(); }));
  auto info = Info("dp-1");
  EXPECT_EQ(info->last_nack_version, "v2");
  EXPECT_EQ(info->last_nack_reason, "route 0 of vhost a.example.test: bad regex");
  EXPECT_EQ(info->acked_version, "v1");
  EXPECT_EQ(client->version(), "v1");
  EXPECT_EQ(client->nack_count(), 1u);
  EXPECT_EQ(server_.Stats().nacks, 1u);

  // The next change is diffed against what the dataplane still serves (v1): an
  // endpoint-only change from v1 travels as a delta on base v1.
  auto v3 = Shared(MakeSnapshot("v3", 9));
  server_.Publish(v3);
  ASSERT_TRUE(WaitFor([&] { return Acked("dp-1", "v3"); }));
  EXPECT_EQ(client->delta_applied(), 1u);
  EXPECT_TRUE(SameSnapshot(*client->snapshot(), *v3));
}

TEST_F(ChannelTest, InvalidSnapshotIsNackedBeforeApply) {
  server_.Publish(Shared(MakeSnapshot("v1")));
  Recorder rec;
  auto client = NewClient("dp-1", &rec);
  ASSERT_TRUE(WaitFor([&] { return Acked("dp-1", "v1"); }));
  config::v1::Snapshot bad = MakeSnapshot("v2");
  bad.mutable_virtual_hosts(0)->mutable_routes(0)->mutable_forward()->mutable_clusters(0)->set_cluster(
      "ns/x:1");
  server_.Publish(Shared(bad));
  ASSERT_TRUE(WaitFor([&] { return client->nack_count() == 1 && Info("dp-1")->nacks == 1; }));
  EXPECT_NE(Info("dp-1")->last_nack_reason.find("unknown cluster ns/x:1"), std::string::npos);
  EXPECT_EQ(rec.applied(), std::vector<std::string>{"v1"});
  EXPECT_EQ(client->version(), "v1");
}

TEST_F(ChannelTest, SlowClientDoesNotBlockAnotherAndGetsOnlyTheNewest) {
  server_.Publish(Shared(MakeSnapshot("v1", 1)));
  Recorder slow_rec, fast_rec;
  auto slow = NewClient("slow", &slow_rec);
  auto fast = NewClient("fast", &fast_rec);
  ASSERT_TRUE(WaitFor([&] { return Acked("slow", "v1") && Acked("fast", "v1"); }));

  slow_rec.Hold("v2");  // the slow dataplane's apply of v2 hangs until released
  server_.Publish(Shared(MakeSnapshot("v2", 2)));
  ASSERT_TRUE(WaitFor([&] { return slow_rec.applied().size() == 2 && Acked("fast", "v2"); }));
  // The fast dataplane gets every version while the slow one is still stuck on v2.
  server_.Publish(Shared(MakeSnapshot("v3", 3)));
  ASSERT_TRUE(WaitFor([&] { return Acked("fast", "v3"); }));
  server_.Publish(Shared(MakeSnapshot("v4", 4, "/new")));
  ASSERT_TRUE(WaitFor([&] { return Acked("fast", "v4"); }));
  EXPECT_EQ(fast_rec.applied(), (std::vector<std::string>{"v1", "v2", "v3", "v4"}));
  EXPECT_EQ(Info("slow")->inflight_version, "v2");

  slow_rec.Release("v2");
  ASSERT_TRUE(WaitFor([&] { return Acked("slow", "v4"); }));
  EXPECT_EQ(slow_rec.applied(), (std::vector<std::string>{"v1", "v2", "v4"}));  // v3 coalesced away
}

TEST_F(ChannelTest, StopIsPromptAndStreamIsForgotten) {
  server_.Publish(Shared(MakeSnapshot("v1")));
  Recorder rec;
  auto client = NewClient("dp-1", &rec);
  ASSERT_TRUE(WaitFor([&] { return Acked("dp-1", "v1"); }));
  auto start = std::chrono::steady_clock::now();
  client->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_FALSE(client->connected());
  ASSERT_TRUE(WaitFor([&] { return server_.Stats().connected == 0 && server_.Dataplanes().empty(); }));
  EXPECT_EQ(client->version(), "v1");  // keeps serving what it had
}

TEST_F(ChannelTest, ClientStopIsPromptWhileControllerUnreachable) {
  int port = server_.port();
  server_.Stop();
  Recorder rec;
  ClientOptions options;
  options.controller_address = "127.0.0.1:" + std::to_string(port);
  options.node_id = "dp-1";
  options.backoff_initial = std::chrono::milliseconds(5000);  // deep in a backoff wait
  ConfigClient client(options, rec.Fn());
  client.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto start = std::chrono::steady_clock::now();
  client.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_FALSE(client.connected());
  EXPECT_EQ(client.connections(), 0u);
}

TEST_F(ChannelTest, ServerRestartOnSamePortResyncsWithoutResend) {
  auto v1 = Shared(MakeSnapshot("v1", 1));
  server_.Publish(v1);
  Recorder rec;
  auto client = NewClient("dp-1", &rec);
  ASSERT_TRUE(WaitFor([&] { return Acked("dp-1", "v1"); }));
  int port = server_.port();
  server_.Stop();
  ASSERT_TRUE(WaitFor([&] { return !client->connected(); }));
  EXPECT_EQ(client->version(), "v1");  // serves on while the controller is away

  // A restarted controller re-derives the same version from the same world.
  ConfigServer restarted;
  restarted.Publish(Shared(MakeSnapshot("v1", 1)));
  ASSERT_TRUE(StartServer(&restarted, "127.0.0.1:" + std::to_string(port)));
  ASSERT_TRUE(WaitFor([&] {
    auto info = Info("dp-1", restarted);
    return client->connected() && client->connections() == 2 && info && info->acked_version == "v1";
  }));
  EXPECT_EQ(restarted.Stats().pushes_full, 0u);
  EXPECT_EQ(restarted.Stats().pushes_delta, 0u);
  EXPECT_EQ(client->full_applied(), 1u);
  EXPECT_EQ(rec.applied(), std::vector<std::string>{"v1"});

  // And its first change is a delta on the version the Hello reported.
  restarted.Publish(Shared(MakeSnapshot("v2", 5)));
  ASSERT_TRUE(WaitFor([&] { return client->version() == "v2"; }));
  EXPECT_EQ(client->delta_applied(), 1u);
  EXPECT_EQ(restarted.Stats().pushes_delta, 1u);
}

}  // namespace
}  // namespace keel
