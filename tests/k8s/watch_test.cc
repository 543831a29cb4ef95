// ListWatcher against the fake API server: every kind delivered, namespace scoping,
// pagination, bookmarks, 410 relists, dropped connections, server restarts, Stop().
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <thread>

#include "controller/k8s/kinds.h"
#include "controller/k8s/list_watch.h"
#include "tests/k8s/fake_api_server.h"
#include "tests/k8s/recording_sink.h"

namespace keel::k8s {
namespace {

using store::Kind;
using testing::FakeApiOptions;
using testing::FakeApiServer;
using testing::RecordingSink;
using namespace std::chrono_literals;

class WatchTest : public ::testing::Test {
 protected:
  void StartServer(FakeApiOptions o = {}) {
    std::string err;
    server_ = FakeApiServer::Start(o, &err);
    ASSERT_TRUE(server_) << err;
    auto c = ApiClient::Create(server_->Config());
    ASSERT_TRUE(c) << c.error();
    client_ = std::move(c.value());
  }
  static WatchOptions Fast(std::vector<Kind> kinds) {
    WatchOptions o;
    o.kinds = std::move(kinds);
    o.backoff_initial = 20ms;
    o.backoff_max = 200ms;
    o.watch_timeout = 30s;
    return o;
  }
  void Create(const std::string& collection, const nlohmann::json& obj) {
    auto r = client_->Post(collection, obj);
    ASSERT_TRUE(r) << r.error();
  }
  int64_t ServerRv() { return server_->Admin("state", nullptr, false)["resourceVersion"].get<int64_t>(); }

  std::unique_ptr<FakeApiServer> server_;
  std::unique_ptr<ApiClient> client_;
  RecordingSink sink_;
};

TEST_F(WatchTest, ListThenWatchDeliversEveryKind) {
  StartServer();
  ASSERT_TRUE(testing::CreateNamespace(client_.get(), "app"));
  Create("/api/v1/namespaces/app/services", testing::MakeService("app", "echo"));
  Create("/apis/networking.k8s.io/v1/namespaces/app/ingresses",
         testing::MakeIngress("app", "web", "a.example.test"));
  Create("/apis/networking.k8s.io/v1/ingressclasses", testing::MakeIngressClass("keel"));
  Create("/apis/discovery.k8s.io/v1/namespaces/app/endpointslices",
         testing::MakeEndpointSlice("app", "echo-1", "echo", "10.0.0.1"));
  Create("/api/v1/namespaces/app/secrets", testing::MakeSecret("app", "tls", "kubernetes.io/tls"));
  Create("/api/v1/namespaces/app/secrets", testing::MakeSecret("app", "opaque", "Opaque"));
  Create("/api/v1/namespaces/app/secrets", testing::MakeSecret("app", "release", "helm.sh/release.v1"));

  ListWatcher watcher(client_.get(), &sink_,
                      Fast({std::begin(store::kAllKinds), std::end(store::kAllKinds)}));
  watcher.Start();
  ASSERT_TRUE(watcher.WaitForSync(10s));
  auto svc = sink_.ObjectsSnapshot(Kind::Service);
  ASSERT_EQ(svc.size(), 1u);
  EXPECT_EQ(svc.begin()->second["kind"], "Service");  // list items get kind/apiVersion back
  EXPECT_EQ(svc.begin()->second["apiVersion"], "v1");
  EXPECT_EQ(sink_.ObjectsSnapshot(Kind::Ingress).count("app/web"), 1u);
  EXPECT_EQ(sink_.ObjectsSnapshot(Kind::IngressClass).count("keel"), 1u);
  EXPECT_EQ(sink_.ObjectsSnapshot(Kind::EndpointSlice).count("app/echo-1"), 1u);
  auto secrets = sink_.ObjectsSnapshot(Kind::Secret);
  EXPECT_EQ(secrets.size(), 2u);  // kubernetes.io/tls and Opaque (basic auth); no Helm release
  EXPECT_EQ(secrets.count("app/tls"), 1u);
  EXPECT_EQ(secrets.count("app/opaque"), 1u);

  // Changes after the list arrive through the watch.
  auto echo = client_->Get("/api/v1/namespaces/app/services/echo");
  ASSERT_TRUE(echo);
  echo.value()["spec"]["ports"][0]["port"] = 8081;
  ASSERT_TRUE(client_->Put("/api/v1/namespaces/app/services/echo", echo.value()));
  Create("/apis/networking.k8s.io/v1/namespaces/app/ingresses",
         testing::MakeIngress("app", "web2", "b.example.test"));
  ASSERT_TRUE(client_->Delete("/apis/discovery.k8s.io/v1/namespaces/app/endpointslices/echo-1"));
  Create("/api/v1/namespaces/app/secrets", testing::MakeSecret("app", "tls2", "kubernetes.io/tls"));
  Create("/api/v1/namespaces/app/secrets", testing::MakeSecret("app", "opaque2", "Opaque"));
  ASSERT_TRUE(sink_.WaitFor([](const RecordingSink& s) {
    return s.objects(Kind::Service).count("app/echo") &&
           s.objects(Kind::Service).at("app/echo")["spec"]["ports"][0]["port"] == 8081 &&
           s.Has(Kind::Ingress, "app/web2") && !s.Has(Kind::EndpointSlice, "app/echo-1") &&
           s.Has(Kind::Secret, "app/tls2") && s.Has(Kind::Secret, "app/opaque2");
  })) << "watch events did not arrive";
  watcher.Stop();
  const auto& c = watcher.counters();
  EXPECT_EQ(c.of(Kind::Service).modified.load(), 1u);
  EXPECT_EQ(c.of(Kind::Ingress).added.load(), 1u);
  EXPECT_EQ(c.of(Kind::EndpointSlice).deleted.load(), 1u);
  for (Kind k : store::kAllKinds) {
    EXPECT_EQ(c.of(k).lists.load(), 1u);
    EXPECT_EQ(c.of(k).relists.load(), 0u);
  }
}

TEST_F(WatchTest, WatchNamespaceScopesEveryKindButIngressClass) {
  StartServer();
  ASSERT_TRUE(testing::CreateNamespace(client_.get(), "a"));
  ASSERT_TRUE(testing::CreateNamespace(client_.get(), "b"));
  Create("/api/v1/namespaces/a/services", testing::MakeService("a", "s"));
  Create("/api/v1/namespaces/b/services", testing::MakeService("b", "s"));
  Create("/apis/networking.k8s.io/v1/ingressclasses", testing::MakeIngressClass("keel"));
  auto opts = Fast({Kind::Service, Kind::IngressClass});
  opts.watch_namespace = "a";
  ListWatcher watcher(client_.get(), &sink_, opts);
  watcher.Start();
  ASSERT_TRUE(watcher.WaitForSync(10s));
  Create("/api/v1/namespaces/b/services", testing::MakeService("b", "t"));
  Create("/api/v1/namespaces/a/services", testing::MakeService("a", "t"));
  ASSERT_TRUE(sink_.WaitFor([](const RecordingSink& s) { return s.Has(Kind::Service, "a/t"); }));
  watcher.Stop();
  auto svc = sink_.ObjectsSnapshot(Kind::Service);
  EXPECT_EQ(svc.size(), 2u);
  EXPECT_EQ(svc.count("b/s") + svc.count("b/t"), 0u);
  EXPECT_EQ(sink_.ObjectsSnapshot(Kind::IngressClass).count("keel"), 1u);
  std::set<std::string> paths;
  const nlohmann::json log = server_->Admin("requests", nullptr, false);
  for (const auto& r : log["requests"]) {
    std::string p = r["path"];
    paths.insert(p.substr(0, p.find('?')));
  }
  EXPECT_TRUE(paths.count("/api/v1/namespaces/a/services"));
  EXPECT_TRUE(paths.count("/apis/networking.k8s.io/v1/ingressclasses"));
  EXPECT_FALSE(paths.count("/api/v1/services"));
}

TEST_F(WatchTest, ListFollowsContinueTokens) {
  StartServer();
  ASSERT_TRUE(testing::CreateNamespace(client_.get(), "app"));
  for (int i = 0; i < 7; ++i)
    Create("/api/v1/namespaces/app/services", testing::MakeService("app", "s" + std::to_string(i)));
  auto opts = Fast({Kind::Service});
  opts.page_size = 3;
  ListWatcher watcher(client_.get(), &sink_, opts);
  watcher.Start();
  ASSERT_TRUE(watcher.WaitForSync(10s));
  watcher.Stop();
  EXPECT_EQ(sink_.ObjectsSnapshot(Kind::Service).size(), 7u);
  EXPECT_EQ(watcher.counters().of(Kind::Service).list_pages.load(), 3u);
  int continued = 0;
  const nlohmann::json log = server_->Admin("requests", nullptr, false);
  for (const auto& r : log["requests"]) {
    continued += r["path"].get<std::string>().find("&continue=") != std::string::npos;
  }
  EXPECT_EQ(continued, 2);
}

TEST_F(WatchTest, BookmarksAdvanceResourceVersionWithoutEvents) {
  FakeApiOptions o;
  o.bookmark_interval = 0.1;
  StartServer(o);
  ListWatcher watcher(client_.get(), &sink_, Fast({Kind::Service}));
  watcher.Start();
  ASSERT_TRUE(watcher.WaitForSync(10s));
  const std::string listed = watcher.resource_version(Kind::Service);
  // Writes to a kind nobody watches move the global resourceVersion only.
  for (int i = 0; i < 3; ++i) {
    Create("/api/v1/namespaces/default/configmaps",
           {{"metadata", {{"name", "cm" + std::to_string(i)}}}, {"data", {{"k", "v"}}}});
  }
  const std::string want = std::to_string(ServerRv());
  ASSERT_NE(listed, want);
  testing::Eventually([&] { return watcher.resource_version(Kind::Service) == want; }, 5s);
  watcher.Stop();
  EXPECT_EQ(watcher.resource_version(Kind::Service), want);
  EXPECT_GE(watcher.counters().of(Kind::Service).bookmarks.load(), 1u);
  EXPECT_EQ(sink_.CallsSnapshot().size(), 1u);  // the initial Replace only
}

TEST_F(WatchTest, ExpiredErrorEventTriggersRelist) {
  StartServer();
  ListWatcher watcher(client_.get(), &sink_, Fast({Kind::Service}));
  watcher.Start();
  ASSERT_TRUE(watcher.WaitForSync(10s));
  ASSERT_TRUE(testing::Eventually([&] { return server_->Admin("state", nullptr, false)["watches"] == 1; }));
  server_->Admin("expire-watches");
  ASSERT_TRUE(sink_.WaitFor(
      [](const RecordingSink& s) { return s.Count(RecordingSink::Op::kReplace, Kind::Service) == 2; }));
  Create("/api/v1/namespaces/default/services", testing::MakeService("default", "after"));
  ASSERT_TRUE(sink_.WaitFor([](const RecordingSink& s) { return s.Has(Kind::Service, "default/after"); }));
  watcher.Stop();
  EXPECT_EQ(watcher.counters().of(Kind::Service).relists.load(), 1u);
  EXPECT_EQ(watcher.counters().of(Kind::Service).errors.load(), 0u);
}

// Watches blocked (500s) and connections cut while an object changes, then the history
// is compacted past the client's resourceVersion: the next watch gets ERROR 410 and the
// relist brings the missed object.
TEST_F(WatchTest, ResumeFromCompactedVersionRelists) {
  StartServer();
  ListWatcher watcher(client_.get(), &sink_, Fast({Kind::Service}));
  watcher.Start();
  ASSERT_TRUE(watcher.WaitForSync(10s));
  server_->Admin("fail", {{"path", "/api/v1/services"}, {"code", 500}, {"count", 100000}});
  server_->Admin("drop-watches");
  Create("/api/v1/namespaces/default/services", testing::MakeService("default", "missed"));
  server_->Admin("compact");
  ASSERT_TRUE(testing::Eventually([&] { return watcher.counters().of(Kind::Service).errors.load() >= 1; }));
  server_->Admin("fail", {{"clear", true}});
  ASSERT_TRUE(sink_.WaitFor([](const RecordingSink& s) { return s.Has(Kind::Service, "default/missed"); }));
  watcher.Stop();
  EXPECT_EQ(watcher.counters().of(Kind::Service).relists.load(), 1u);
  EXPECT_EQ(sink_.Count(RecordingSink::Op::kReplace, Kind::Service), 2u);
  EXPECT_EQ(sink_.Count(RecordingSink::Op::kUpsert, Kind::Service), 0u);
}

// Every Upsert once, in resourceVersion order, despite connections cut mid-stream.
void ExpectEachOnceInOrder(const std::vector<RecordingSink::Call>& calls, size_t want) {
  std::set<std::string> seen;
  int64_t last = 0;
  size_t upserts = 0;
  for (const auto& c : calls) {
    if (c.op != RecordingSink::Op::kUpsert) continue;
    ++upserts;
    EXPECT_TRUE(seen.insert(c.key).second) << "duplicate event for " << c.key;
    int64_t rv = std::stoll(c.resource_version);
    EXPECT_GT(rv, last) << c.key;
    last = rv;
  }
  EXPECT_EQ(upserts, want);
}

TEST_F(WatchTest, DroppedConnectionsLoseAndRepeatNothing) {
  StartServer();
  ListWatcher watcher(client_.get(), &sink_, Fast({Kind::Service}));
  watcher.Start();
  ASSERT_TRUE(watcher.WaitForSync(10s));
  for (int i = 0; i < 40; ++i) {
    Create("/api/v1/namespaces/default/services", testing::MakeService("default", "s" + std::to_string(i)));
    if (i % 8 == 7) server_->Admin("drop-watches");
  }
  ASSERT_TRUE(sink_.WaitFor([](const RecordingSink& s) { return s.objects(Kind::Service).size() == 40; }));
  watcher.Stop();
  ExpectEachOnceInOrder(sink_.CallsSnapshot(), 40);
  EXPECT_EQ(watcher.counters().of(Kind::Service).relists.load(), 0u);
  EXPECT_GE(watcher.counters().of(Kind::Service).watch_restarts.load(), 1u);
}

TEST_F(WatchTest, ServerRestartResumesOrRelists) {
  const auto dir = std::filesystem::temp_directory_path() / ("keel-k8s-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  FakeApiOptions o;
  o.state_file = (dir / "state.json").string();
  StartServer(o);
  o.port = server_->port();
  ListWatcher watcher(client_.get(), &sink_, Fast({Kind::Service}));
  watcher.Start();
  ASSERT_TRUE(watcher.WaitForSync(10s));
  Create("/api/v1/namespaces/default/services", testing::MakeService("default", "a"));
  ASSERT_TRUE(sink_.WaitFor([](const RecordingSink& s) { return s.Has(Kind::Service, "default/a"); }));

  // 1. A crash while the client is current: it resumes from its resourceVersion.
  server_->Kill();
  std::string err;
  server_ = FakeApiServer::Start(o, &err);
  ASSERT_TRUE(server_) << err;
  Create("/api/v1/namespaces/default/services", testing::MakeService("default", "b"));
  Create("/api/v1/namespaces/default/services", testing::MakeService("default", "c"));
  ASSERT_TRUE(sink_.WaitFor([](const RecordingSink& s) { return s.Has(Kind::Service, "default/c"); }));
  EXPECT_EQ(watcher.counters().of(Kind::Service).relists.load(), 0u);
  ExpectEachOnceInOrder(sink_.CallsSnapshot(), 3);

  // 2. A restart after the client fell behind: its resourceVersion is gone → relist.
  server_->Admin("fail", {{"path", "/api/v1/services"}, {"code", 500}, {"count", 100000}});
  server_->Admin("drop-watches");
  Create("/api/v1/namespaces/default/services", testing::MakeService("default", "d"));
  server_->Kill();
  server_ = FakeApiServer::Start(o, &err);
  ASSERT_TRUE(server_) << err;
  ASSERT_TRUE(sink_.WaitFor([](const RecordingSink& s) { return s.Has(Kind::Service, "default/d"); }));
  watcher.Stop();
  EXPECT_EQ(watcher.counters().of(Kind::Service).relists.load(), 1u);
  EXPECT_GE(watcher.counters().of(Kind::Service).errors.load(), 1u);
  EXPECT_EQ(sink_.ObjectsSnapshot(Kind::Service).size(), 4u);
  std::filesystem::remove_all(dir);
}

TEST_F(WatchTest, RetriesUntilTheServerComesUp) {
  StartServer();
  FakeApiOptions o;
  o.port = server_->port();
  server_->Kill();
  ListWatcher watcher(client_.get(), &sink_, Fast({Kind::Service}));
  watcher.Start();
  ASSERT_TRUE(testing::Eventually([&] { return watcher.counters().of(Kind::Service).errors.load() >= 3; }));
  EXPECT_FALSE(watcher.synced());
  std::string err;
  server_ = FakeApiServer::Start(o, &err);
  ASSERT_TRUE(server_) << err;
  EXPECT_TRUE(watcher.WaitForSync(5s));
  watcher.Stop();
}

TEST_F(WatchTest, StopInterruptsAnIdleWatchPromptly) {
  StartServer();
  auto opts = Fast({std::begin(store::kAllKinds), std::end(store::kAllKinds)});
  opts.watch_timeout = 300s;
  ListWatcher watcher(client_.get(), &sink_, opts);
  watcher.Start();
  ASSERT_TRUE(watcher.WaitForSync(10s));
  std::this_thread::sleep_for(100ms);  // let every watch reach its blocking read
  const auto t0 = std::chrono::steady_clock::now();
  watcher.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
}

}  // namespace
}  // namespace keel::k8s
