// LeaderElector against the fake API server: one leader of two, hand-over on Stop,
// take-over of an expired Lease, stepping down when renewals fail.
#include "controller/status/leader_election.h"

#include <gtest/gtest.h>

#include <atomic>

#include "tests/k8s/fake_api_server.h"

namespace keel::status {
namespace {

using namespace std::chrono_literals;
using k8s::testing::Eventually;
using k8s::testing::FakeApiServer;

const char kLease[] = "/apis/coordination.k8s.io/v1/namespaces/default/leases/keel-test";

LeaderElectionOptions Fast(const std::string& identity) {
  LeaderElectionOptions o;
  o.lease_name = "keel-test";
  o.identity = identity;
  o.lease_duration = 1s;
  o.renew_deadline = 600ms;
  o.renew_interval = 100ms;
  o.retry_interval = 100ms;
  return o;
}

class LeaderElectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string err;
    server_ = FakeApiServer::Start({}, &err);
    ASSERT_TRUE(server_) << err;
    auto c = k8s::ApiClient::Create(server_->Config());
    ASSERT_TRUE(c) << c.error();
    client_ = std::move(c.value());
  }
  nlohmann::json Lease() {
    auto r = client_->Get(kLease);
    EXPECT_TRUE(r) << r.error();
    return r ? r.value() : nlohmann::json();
  }
  std::unique_ptr<FakeApiServer> server_;
  std::unique_ptr<k8s::ApiClient> client_;
};

TEST_F(LeaderElectionTest, OneOfTwoLeadsAndTheOtherTakesOverOnStop) {
  auto a = std::make_unique<LeaderElector>(client_.get(), Fast("replica-a"));
  LeaderElector b(client_.get(), Fast("replica-b"));
  a->Start();
  b.Start();
  ASSERT_TRUE(Eventually([&] { return a->IsLeader() || b.IsLeader(); }, 5s));
  std::this_thread::sleep_for(400ms);  // several renew/retry rounds: still exactly one
  ASSERT_NE(a->IsLeader(), b.IsLeader());
  LeaderElector& leader = a->IsLeader() ? *a : b;
  LeaderElector& follower = a->IsLeader() ? b : *a;
  nlohmann::json lease = Lease();
  EXPECT_EQ(lease["spec"]["holderIdentity"], leader.identity());
  EXPECT_EQ(lease["spec"]["leaseDurationSeconds"], 1);
  EXPECT_EQ(follower.observed_holder(), leader.identity());
  const std::string renewed = lease["spec"]["renewTime"];
  ASSERT_TRUE(Eventually([&] { return Lease()["spec"]["renewTime"] != renewed; }, 2s))
      << "leader does not renew";
  EXPECT_GE(leader.counters().renewals.load(), 1u);

  const int transitions = Lease()["spec"].value("leaseTransitions", 0);
  const auto t0 = std::chrono::steady_clock::now();
  if (&leader == a.get()) {
    a.reset();  // Stop() releases the Lease
  } else {
    b.Stop();
  }
  ASSERT_TRUE(Eventually([&] { return follower.IsLeader(); }, 5s));
  // Released, not expired: the successor does not wait out the lease duration.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 900ms);
  lease = Lease();
  EXPECT_EQ(lease["spec"]["holderIdentity"], follower.identity());
  EXPECT_EQ(lease["spec"]["leaseTransitions"], transitions + 1);
}

TEST_F(LeaderElectionTest, TakesOverALeaseWhoseHolderStoppedRenewing) {
  nlohmann::json ghost = {{"apiVersion", "coordination.k8s.io/v1"},
                          {"kind", "Lease"},
                          {"metadata", {{"name", "keel-test"}, {"namespace", "default"}}},
                          {"spec",
                           {{"holderIdentity", "ghost"},
                            {"leaseDurationSeconds", 1},
                            {"acquireTime", "2026-11-23T08:00:00.000000Z"},
                            {"renewTime", "2026-11-23T08:00:00.000000Z"},
                            {"leaseTransitions", 3}}}};
  ASSERT_TRUE(client_->Post("/apis/coordination.k8s.io/v1/namespaces/default/leases", ghost));
  LeaderElector e(client_.get(), Fast("replica-a"));
  const auto t0 = std::chrono::steady_clock::now();
  e.Start();
  std::this_thread::sleep_for(500ms);
  // Expiry is judged by our own clock from when we first saw the Lease, not by its
  // (possibly skewed) renewTime: half a lease duration in, the ghost still holds it.
  EXPECT_FALSE(e.IsLeader());
  EXPECT_EQ(e.observed_holder(), "ghost");
  ASSERT_TRUE(e.WaitForLeadership(3s));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 1s);
  nlohmann::json lease = Lease();
  EXPECT_EQ(lease["spec"]["holderIdentity"], "replica-a");
  EXPECT_EQ(lease["spec"]["leaseTransitions"], 4);
  EXPECT_NE(lease["spec"]["acquireTime"], "2026-11-23T08:00:00.000000Z");
}

TEST_F(LeaderElectionTest, StepsDownWhenItCannotRenewAndComesBack) {
  std::atomic<bool> started{false}, stopped{false};
  auto opts = Fast("replica-a");
  opts.on_started_leading = [&] { started = true; };
  opts.on_stopped_leading = [&] { stopped = true; };
  LeaderElector e(client_.get(), opts);
  e.Start();
  ASSERT_TRUE(e.WaitForLeadership(3s));
  EXPECT_TRUE(started);
  server_->Admin("fail", {{"path", kLease}, {"code", 500}, {"count", 100000}});
  ASSERT_TRUE(Eventually([&] { return !e.IsLeader(); }, 3s)) << "leader kept leading without renewing";
  EXPECT_TRUE(stopped);
  EXPECT_GE(e.counters().errors.load(), 1u);
  server_->Admin("fail", {{"clear", true}});
  // Still the holder on the Lease: it renews and leads again.
  ASSERT_TRUE(e.WaitForLeadership(3s));
  EXPECT_EQ(e.counters().acquired.load(), 2u);
  e.Stop();
  EXPECT_EQ(Lease()["spec"]["holderIdentity"], "");
}

}  // namespace
}  // namespace keel::status
