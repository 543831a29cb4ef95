// EventRecorder against the fake API server: Events shaped like the captured one,
// repeats folded into count/lastTimestamp, per-object rate limit, leader only.
#include "controller/status/events.h"

#include <gtest/gtest.h>

#include "controller/status/leader_election.h"
#include "tests/k8s/fake_api_server.h"

namespace keel::status {
namespace {

using namespace std::chrono_literals;
using k8s::testing::FakeApiServer;

class EventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string err;
    server_ = FakeApiServer::Start({}, &err);
    ASSERT_TRUE(server_) << err;
    auto c = k8s::ApiClient::Create(server_->Config());
    ASSERT_TRUE(c) << c.error();
    client_ = std::move(c.value());
    ASSERT_TRUE(k8s::testing::CreateNamespace(client_.get(), "wire"));
    auto web = client_->Post("/apis/networking.k8s.io/v1/namespaces/wire/ingresses",
                             k8s::testing::MakeIngress("wire", "web", "demo.example.test"));
    ASSERT_TRUE(web) << web.error();
    web_ = ObjectReference::From(web.value());
  }
  std::vector<nlohmann::json> Events(const std::string& ns = "wire") {
    auto r = client_->Get("/api/v1/namespaces/" + ns + "/events");
    EXPECT_TRUE(r) << r.error();
    return r ? r.value()["items"].get<std::vector<nlohmann::json>>() : std::vector<nlohmann::json>{};
  }
  std::unique_ptr<FakeApiServer> server_;
  std::unique_ptr<k8s::ApiClient> client_;
  ObjectReference web_;
};

TEST_F(EventsTest, CreatesAnEventLikeTheCapturedOne) {
  EventRecorder rec(client_.get(), nullptr, {.instance = "keel-0"});
  rec.Record(web_, EventType::kWarning, "InvalidBackend", "service wire/missing not found");
  ASSERT_TRUE(rec.Flush(5s));
  auto events = Events();
  ASSERT_EQ(events.size(), 1u);
  const auto& e = events[0];
  EXPECT_EQ(e["involvedObject"]["kind"], "Ingress");
  EXPECT_EQ(e["involvedObject"]["namespace"], "wire");
  EXPECT_EQ(e["involvedObject"]["name"], "web");
  EXPECT_EQ(e["involvedObject"]["apiVersion"], "networking.k8s.io/v1");
  EXPECT_EQ(e["involvedObject"]["uid"], web_.uid);
  EXPECT_EQ(e["reason"], "InvalidBackend");
  EXPECT_EQ(e["message"], "service wire/missing not found");
  EXPECT_EQ(e["type"], "Warning");
  EXPECT_EQ(e["count"], 1);
  EXPECT_EQ(e["source"]["component"], "keel-controller");
  EXPECT_EQ(e["source"]["host"], "keel-0");
  EXPECT_EQ(e["firstTimestamp"], e["lastTimestamp"]);
  EXPECT_EQ(e["metadata"]["name"].get<std::string>().rfind("web.", 0), 0u);
  EXPECT_EQ(rec.counters().created.load(), 1u);
}

TEST_F(EventsTest, RepeatsAreDeduplicatedIntoCount) {
  EventRecorder rec(client_.get(), nullptr);
  for (int i = 0; i < 4; ++i)
    rec.Record(web_, EventType::kWarning, "InvalidBackend", "service wire/missing not found");
  rec.Record(web_, EventType::kNormal, "Sync", "configuration applied");
  ASSERT_TRUE(rec.Flush(5s));
  auto events = Events();
  ASSERT_EQ(events.size(), 2u);
  std::map<std::string, nlohmann::json> by_reason;
  for (const auto& e : events) by_reason[e["reason"]] = e;
  EXPECT_EQ(by_reason["InvalidBackend"]["count"], 4);
  EXPECT_EQ(by_reason["Sync"]["count"], 1);
  EXPECT_EQ(by_reason["Sync"]["type"], "Normal");
  EXPECT_EQ(rec.counters().created.load(), 2u);
  EXPECT_EQ(rec.counters().deduplicated.load(), 3u);

  // Deleted meanwhile (the server's event TTL): the next repeat starts a new Event.
  const std::string name = by_reason["InvalidBackend"]["metadata"]["name"];
  ASSERT_TRUE(client_->Delete("/api/v1/namespaces/wire/events/" + name));
  rec.Record(web_, EventType::kWarning, "InvalidBackend", "service wire/missing not found");
  ASSERT_TRUE(rec.Flush(5s));
  events = Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(rec.counters().created.load(), 3u);
}

TEST_F(EventsTest, EachObjectIsRateLimited) {
  EventRecorderOptions o;
  o.burst = 5;
  o.refill_every = std::chrono::hours(1);
  EventRecorder rec(client_.get(), nullptr, o);
  for (int i = 0; i < 10; ++i) rec.Record(web_, EventType::kWarning, "Flap", "attempt " + std::to_string(i));
  ObjectReference cls{"IngressClass", "networking.k8s.io/v1", "", "keel", "uid-1", "1"};
  rec.Record(cls, EventType::kNormal, "Claimed", "controller owns this class");
  ASSERT_TRUE(rec.Flush(5s));
  EXPECT_EQ(Events().size(), 5u);
  EXPECT_EQ(rec.counters().rate_limited.load(), 5u);
  // Another object has its own bucket; cluster-scoped objects' Events go to "default".
  auto defaults = Events("default");
  ASSERT_EQ(defaults.size(), 1u);
  EXPECT_EQ(defaults[0]["involvedObject"]["name"], "keel");
  EXPECT_FALSE(defaults[0]["involvedObject"].contains("namespace"));
}

TEST_F(EventsTest, OnlyTheLeaderRecords) {
  LeaderElectionOptions lo;
  lo.identity = "me";
  LeaderElector elector(client_.get(), lo);  // not started: never leader
  EventRecorder rec(client_.get(), &elector);
  rec.Record(web_, EventType::kWarning, "InvalidBackend", "x");
  ASSERT_TRUE(rec.Flush(5s));
  EXPECT_TRUE(Events().empty());
  EXPECT_EQ(rec.counters().dropped.load(), 1u);
}

}  // namespace
}  // namespace keel::status
