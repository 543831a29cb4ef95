// IngressStatusWriter against the fake API server: written once, only by the leader,
// conflicts resolved by re-reading, unchanged addresses cost no write.
#include "controller/status/ingress_status.h"

#include <gtest/gtest.h>

#include "controller/status/leader_election.h"
#include "tests/k8s/fake_api_server.h"

namespace keel::status {
namespace {

using namespace std::chrono_literals;
using k8s::testing::FakeApiServer;

const char kIngresses[] = "/apis/networking.k8s.io/v1/namespaces/wire/ingresses";

class IngressStatusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string err;
    server_ = FakeApiServer::Start({}, &err);
    ASSERT_TRUE(server_) << err;
    auto c = k8s::ApiClient::Create(server_->Config());
    ASSERT_TRUE(c) << c.error();
    client_ = std::move(c.value());
    ASSERT_TRUE(k8s::testing::CreateNamespace(client_.get(), "wire"));
    auto web = client_->Post(kIngresses, k8s::testing::MakeIngress("wire", "web", "demo.example.test"));
    ASSERT_TRUE(web) << web.error();
    web_ = web.value();
  }
  int StatusWrites() {
    int n = 0;
    const nlohmann::json log = server_->Admin("requests", nullptr, false);
    for (const auto& r : log["requests"]) {
      n += r["method"] == "PUT" && r["path"].get<std::string>().find("/status") != std::string::npos;
    }
    return n;
  }
  nlohmann::json LoadBalancer() {
    auto r = client_->Get(std::string(kIngresses) + "/web");
    EXPECT_TRUE(r);
    return r ? r.value()["status"]["loadBalancer"] : nlohmann::json();
  }
  std::unique_ptr<FakeApiServer> server_;
  std::unique_ptr<k8s::ApiClient> client_;
  nlohmann::json web_;
};

TEST(ParseAddressesTest, SplitsIpsFromHostnames) {
  auto a = ParseAddresses("203.0.113.10, lb.example.com,2001:db8::1,,");
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].ip, "203.0.113.10");
  EXPECT_EQ(a[1].hostname, "lb.example.com");
  EXPECT_EQ(a[2].ip, "2001:db8::1");
  EXPECT_TRUE(ParseAddresses("").empty());
}

TEST_F(IngressStatusTest, WritesOnceAndOnlyWhenAddressesChange) {
  IngressStatusWriter writer(client_.get(), nullptr);
  auto addrs = ParseAddresses("203.0.113.10,lb.example.com");
  auto r = writer.Sync("wire", "web", addrs);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r.value(), StatusOutcome::kUpdated);
  EXPECT_EQ(LoadBalancer(),
            nlohmann::json::parse(R"({"ingress":[{"ip":"203.0.113.10"},{"hostname":"lb.example.com"}]})"));

  // Same addresses in another order: no write.
  r = writer.Sync("wire", "web", ParseAddresses("lb.example.com,203.0.113.10"));
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r.value(), StatusOutcome::kUnchanged);
  EXPECT_EQ(StatusWrites(), 1);
  EXPECT_EQ(writer.counters().updates.load(), 1u);

  // A spec change bumped generation; status writes must not.
  auto after = client_->Get(std::string(kIngresses) + "/web");
  ASSERT_TRUE(after);
  EXPECT_EQ(after.value()["metadata"]["generation"], 1);

  r = writer.Sync("wire", "web", {});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r.value(), StatusOutcome::kUpdated);
  EXPECT_EQ(LoadBalancer(), nlohmann::json::object());
  EXPECT_EQ(writer.Sync("wire", "nope", addrs).value(), StatusOutcome::kNotFound);
}

TEST_F(IngressStatusTest, StaleObjectIsReReadOnConflict) {
  IngressStatusWriter writer(client_.get(), nullptr);
  // Someone else changed the Ingress since `web_` was read (as a store may lag).
  ASSERT_TRUE(client_->Patch(std::string(kIngresses) + "/web", {{"metadata", {{"labels", {{"x", "y"}}}}}},
                             k8s::PatchType::Merge));
  auto r = writer.Sync(web_, ParseAddresses("198.51.100.7"));
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r.value(), StatusOutcome::kUpdated);
  EXPECT_EQ(writer.counters().conflicts.load(), 1u);
  EXPECT_EQ(LoadBalancer()["ingress"][0]["ip"], "198.51.100.7");
  auto got = client_->Get(std::string(kIngresses) + "/web");
  ASSERT_TRUE(got);
  EXPECT_EQ(got.value()["metadata"]["labels"]["x"], "y");  // the other writer's change survives
}

TEST_F(IngressStatusTest, OnlyTheLeaderWrites) {
  LeaderElectionOptions lo;
  lo.identity = "me";
  lo.lease_duration = 1s;
  lo.renew_interval = 100ms;
  lo.retry_interval = 100ms;
  lo.renew_deadline = 600ms;
  LeaderElector elector(client_.get(), lo);
  IngressStatusWriter writer(client_.get(), &elector);
  auto r = writer.Sync("wire", "web", ParseAddresses("203.0.113.10"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r.value(), StatusOutcome::kNotLeader);
  EXPECT_EQ(StatusWrites(), 0);
  elector.Start();
  ASSERT_TRUE(elector.WaitForLeadership(3s));
  r = writer.Sync("wire", "web", ParseAddresses("203.0.113.10"));
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r.value(), StatusOutcome::kUpdated);
  EXPECT_EQ(StatusWrites(), 1);
}

}  // namespace
}  // namespace keel::status
