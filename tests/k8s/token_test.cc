// Bearer token rotation: periodic re-reads of the token file, and an immediate
// re-read plus one retry after a 401.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "controller/k8s/api_client.h"
#include "controller/k8s/token_source.h"
#include "tests/k8s/fake_api_server.h"

namespace keel::k8s {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::FakeApiOptions;
using testing::FakeApiServer;

class TokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = (fs::temp_directory_path() / ("keel-token-" + std::to_string(getpid()) + "-" +
                                          ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                .string();
  }
  void TearDown() override { fs::remove(file_); }
  void WriteToken(const std::string& t) {
    // Like kubelet: write a new file and rename it over the old one.
    std::ofstream(file_ + ".tmp") << t << "\n";
    fs::rename(file_ + ".tmp", file_);
  }
  // The tokens the server saw on requests to `path`, in order.
  static std::vector<std::string> TokensSeen(FakeApiServer& s, const std::string& path) {
    std::vector<std::string> out;
    const nlohmann::json log = s.Admin("requests", nullptr, false);
    for (const auto& r : log["requests"]) {
      if (r["path"].get<std::string>().rfind(path, 0) == 0)
        out.push_back(r["token"].is_null() ? "" : r["token"]);
    }
    return out;
  }
  std::string file_;
};

TEST_F(TokenTest, FileTokenIsCachedUntilRefreshOrUnauthorized) {
  WriteToken("one");
  TokenSource src("", file_, 1h);
  EXPECT_EQ(src.Get(), "one");
  WriteToken("two");
  EXPECT_EQ(src.Get(), "one");  // within the refresh period
  EXPECT_TRUE(src.RefreshAfterUnauthorized("one"));
  EXPECT_EQ(src.Get(), "two");
  EXPECT_FALSE(src.RefreshAfterUnauthorized("two"));  // same token: a retry would not help
  fs::remove(file_);
  EXPECT_FALSE(src.RefreshAfterUnauthorized("two"));
  EXPECT_EQ(src.Get(), "two");  // an unreadable file keeps the last good token
}

TEST_F(TokenTest, FileTokenIsReReadAfterTheRefreshPeriod) {
  WriteToken("one");
  TokenSource src("", file_, 0ms);
  EXPECT_EQ(src.Get(), "one");
  WriteToken("two");
  EXPECT_EQ(src.Get(), "two");
  TokenSource fixed("static", "");
  EXPECT_EQ(fixed.Get(), "static");
  EXPECT_FALSE(fixed.RefreshAfterUnauthorized("static"));
}

TEST_F(TokenTest, UnauthorizedReplyRereadsTheFileAndRetriesOnce) {
  FakeApiOptions o;
  o.tokens = {"old"};
  std::string err;
  auto server = FakeApiServer::Start(o, &err);
  ASSERT_TRUE(server) << err;
  WriteToken("old");
  ClusterConfig cfg = server->Config();
  cfg.token_file = file_;
  ClientOptions opts;
  opts.token_refresh = 1h;
  auto client = ApiClient::Create(cfg, opts);
  ASSERT_TRUE(client) << client.error();
  ASSERT_TRUE(client.value()->Get("/api/v1/namespaces"));

  WriteToken("new");
  server->Admin("tokens", {{"tokens", {"new"}}});
  auto r = client.value()->Get("/api/v1/namespaces");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(TokensSeen(*server, "/api/v1/namespaces"), (std::vector<std::string>{"old", "old", "new"}));

  // A watch stream re-reads the token the same way.
  WriteToken("newer");
  server->Admin("tokens", {{"tokens", {"newer"}}});
  auto s = client.value()->Stream("/api/v1/services?watch=true&timeoutSeconds=1",
                                  [](std::string_view) { return true; });
  ASSERT_TRUE(s) << s.error();
  EXPECT_EQ(s->code, 200);
  EXPECT_EQ(TokensSeen(*server, "/api/v1/services"), (std::vector<std::string>{"new", "newer"}));

  // A rejected token that the file still holds is not retried.
  server->Admin("tokens", {{"tokens", {"other"}}});
  auto denied = client.value()->Request(Method::Get, "/api/v1/secrets");
  ASSERT_TRUE(denied) << denied.error();
  EXPECT_EQ(denied->code, 401);
  EXPECT_EQ(denied->status().reason, Reason::kUnauthorized);
  EXPECT_EQ(TokensSeen(*server, "/api/v1/secrets").size(), 1u);
}

TEST_F(TokenTest, RotatedFileIsPickedUpWithoutA401) {
  FakeApiOptions o;
  o.tokens = {"a", "b"};
  std::string err;
  auto server = FakeApiServer::Start(o, &err);
  ASSERT_TRUE(server) << err;
  WriteToken("a");
  ClusterConfig cfg = server->Config();
  cfg.token_file = file_;
  ClientOptions opts;
  opts.token_refresh = 0ms;
  auto client = ApiClient::Create(cfg, opts);
  ASSERT_TRUE(client) << client.error();
  ASSERT_TRUE(client.value()->Get("/api/v1/configmaps"));
  WriteToken("b");
  ASSERT_TRUE(client.value()->Get("/api/v1/configmaps"));
  EXPECT_EQ(TokensSeen(*server, "/api/v1/configmaps"), (std::vector<std::string>{"a", "b"}));
}

TEST_F(TokenTest, MissingAndWrongTokensAreForbiddenAndUnauthorized) {
  FakeApiOptions o;
  o.tokens = {"right"};
  std::string err;
  auto server = FakeApiServer::Start(o, &err);
  ASSERT_TRUE(server) << err;
  auto anonymous = ApiClient::Create(server->Config());
  ASSERT_TRUE(anonymous);
  auto r = anonymous.value()->Request(Method::Get, "/apis/networking.k8s.io/v1/ingresses");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->code, 403);
  EXPECT_EQ(r->status().reason, Reason::kForbidden);
  EXPECT_NE(r->status().message.find("system:anonymous"), std::string::npos);

  auto wrong = ApiClient::Create(server->Config("wrong"));
  ASSERT_TRUE(wrong);
  auto w = wrong.value()->Get("/apis/networking.k8s.io/v1/ingresses");
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error(), "HTTP 401 Unauthorized: Unauthorized");
}

}  // namespace
}  // namespace keel::k8s
