// StatusSync (controller/app) against the fake API server: the leader writes the
// published address once per owned Ingress and one Event per new diagnostic, steady
// state costs no writes, a follower writes nothing, manifests mode writes nothing.
#include "controller/app/status_sync.h"

#include <gtest/gtest.h>

#include <thread>

#include "tests/k8s/fake_api_server.h"

namespace keel::controller {
namespace {

using namespace std::chrono_literals;
using k8s::testing::FakeApiServer;

bool Eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

class StatusSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string err;
    server_ = FakeApiServer::Start({}, &err);
    ASSERT_TRUE(server_) << err;
    auto c = k8s::ApiClient::Create(server_->Config());
    ASSERT_TRUE(c) << c.error();
    client_ = std::move(c.value());
    ASSERT_TRUE(k8s::testing::CreateNamespace(client_.get(), "wire"));
    for (const char* name : {"web", "bad"}) {
      auto ing = client_->Post("/apis/networking.k8s.io/v1/namespaces/wire/ingresses",
                               k8s::testing::MakeIngress("wire", name, std::string(name) + ".test"));
      ASSERT_TRUE(ing) << ing.error();
      uids_[name] = ing.value()["metadata"]["uid"];
    }
  }

  StatusSyncOptions Options(const std::string& identity) {
    StatusSyncOptions o;
    o.publish_address = "203.0.113.7,lb.example.test";
    o.election.lease_namespace = "wire";
    o.election.identity = identity;
    o.election.lease_duration = 2s;
    o.election.renew_deadline = 1500ms;
    o.election.renew_interval = 100ms;
    o.election.retry_interval = 100ms;
    return o;
  }

  StatusInput Input() {
    StatusInput in;
    in.owned.push_back({{"wire", "web"}, uids_["web"], {}});
    in.owned.push_back({{"wire", "bad"}, uids_["bad"], {}});
    in.diagnostics.push_back({"Ingress", "wire", "bad", translate::Severity::kError, "UnknownService",
                              "host \"bad.test\" path \"/\": Service wire/missing not found; answering 503"});
    in.diagnostics.push_back({"Ingress", "wire", "web", translate::Severity::kInfo, "Note", "not an Event"});
    in.diagnostics.push_back({"Secret", "wire", "web-tls", translate::Severity::kError, "InvalidCertificate",
                              "tls.crt is not a PEM certificate; host web.test served with the default one"});
    in.diagnostics.push_back(
        {"Service", "wire", "x", translate::Severity::kError, "InvalidObject", "not ours"});
    in.ingress_uids[{"wire", "bad"}] = uids_["bad"];
    return in;
  }

  nlohmann::json Ingress(const std::string& name) {
    auto r = client_->Get("/apis/networking.k8s.io/v1/namespaces/wire/ingresses/" + name);
    EXPECT_TRUE(r) << r.error();
    return r ? r.value() : nlohmann::json();
  }
  std::string Addresses(const std::string& name) {
    auto ing = Ingress(name);
    return ing.value("status", nlohmann::json::object())
        .value("loadBalancer", nlohmann::json::object())
        .value("ingress", nlohmann::json::array())
        .dump();
  }
  std::vector<nlohmann::json> Events() {
    auto r = client_->Get("/api/v1/namespaces/wire/events");
    EXPECT_TRUE(r) << r.error();
    return r ? r.value()["items"].get<std::vector<nlohmann::json>>() : std::vector<nlohmann::json>{};
  }
  nlohmann::json EventFor(const std::string& name) {
    for (auto& e : Events()) {
      if (e["involvedObject"]["name"] == name) return e;
    }
    return nlohmann::json();
  }

  std::unique_ptr<FakeApiServer> server_;
  std::unique_ptr<k8s::ApiClient> client_;
  std::map<std::string, std::string> uids_;
};

const char* kWant = R"([{"ip":"203.0.113.7"},{"hostname":"lb.example.test"}])";

TEST_F(StatusSyncTest, LeaderWritesStatusAndEventsOnce) {
  StatusSync sync(client_.get(), Options("replica-a"));
  sync.Start();
  sync.Update(Input());
  ASSERT_TRUE(Eventually([&] { return Addresses("web") == kWant && Addresses("bad") == kWant; }))
      << Addresses("web");
  ASSERT_TRUE(Eventually([&] { return Events().size() == 2; }));  // Ingress and Secret, not Service
  EXPECT_TRUE(sync.IsLeader());
  auto bad = EventFor("bad");
  EXPECT_EQ(bad["involvedObject"]["kind"], "Ingress");
  EXPECT_EQ(bad["involvedObject"]["uid"], uids_["bad"]);
  EXPECT_EQ(bad["reason"], "UnknownService");
  EXPECT_EQ(bad["type"], "Warning");
  auto secret = EventFor("web-tls");
  EXPECT_EQ(secret["involvedObject"]["kind"], "Secret");
  EXPECT_EQ(secret["involvedObject"]["apiVersion"], "v1");
  EXPECT_EQ(secret["reason"], "InvalidCertificate");

  // Steady state: the same input again and again writes nothing.
  const std::string rv = Ingress("web")["metadata"]["resourceVersion"];
  for (int i = 0; i < 5; ++i) sync.Update(Input());
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(Ingress("web")["metadata"]["resourceVersion"], rv);
  ASSERT_EQ(Events().size(), 2u);
  EXPECT_EQ(EventFor("bad")["count"], 1);

  // A diagnostic that goes away and comes back is a new occurrence: count 2.
  StatusInput fixed = Input();
  fixed.diagnostics.clear();
  sync.Update(fixed);
  std::this_thread::sleep_for(300ms);
  sync.Update(Input());
  EXPECT_TRUE(Eventually([&] { return Events().size() == 2 && EventFor("bad")["count"] == 2; }));

  // An Ingress we stop owning loses our address.
  StatusInput fewer = Input();
  fewer.owned.pop_back();
  sync.Update(fewer);
  EXPECT_TRUE(Eventually([&] { return Addresses("bad") == "[]"; })) << Addresses("bad");
  EXPECT_EQ(Addresses("web"), kWant);
  sync.Stop();
}

TEST_F(StatusSyncTest, FollowerWritesNothing) {
  StatusSync leader(client_.get(), Options("replica-a"));
  leader.Start();
  ASSERT_TRUE(Eventually([&] { return leader.IsLeader(); }));
  StatusSync follower(client_.get(), Options("replica-b"));
  follower.Start();
  follower.Update(Input());
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(follower.IsLeader());
  EXPECT_EQ(Addresses("web"), "[]");
  EXPECT_TRUE(Events().empty());
  // The leader steps down (releases the Lease): the follower takes over and writes.
  leader.Stop();
  EXPECT_TRUE(Eventually([&] { return follower.IsLeader(); }));
  EXPECT_TRUE(Eventually([&] { return Addresses("web") == kWant; }));
  EXPECT_TRUE(Eventually([&] { return Events().size() == 2; }));
  follower.Stop();
}

TEST_F(StatusSyncTest, ManifestsModeWritesNothing) {
  StatusSync sync(nullptr, Options("local"));
  sync.Start();
  EXPECT_TRUE(sync.IsLeader());
  sync.Update(Input());
  std::this_thread::sleep_for(200ms);
  sync.Stop();
  EXPECT_EQ(Addresses("web"), "[]");
  EXPECT_TRUE(Events().empty());
}

}  // namespace
}  // namespace keel::controller
