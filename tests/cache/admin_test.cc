// The purge endpoint's parsing and effects.
#include "dataplane/cache/admin.h"

#include <gtest/gtest.h>

namespace keel::cache {
namespace {

TEST(Purge, NeedsAnUnsafeMethodAndOneParameter) {
  Store s(1 << 20, 1 << 16);
  EXPECT_EQ(HandlePurge(s, "GET", "/cache/purge?url=http://a/").status, 405);
  EXPECT_EQ(HandlePurge(s, "POST", "/cache/purge").status, 400);
  EXPECT_EQ(HandlePurge(s, "POST", "/cache/purge?url=http://a/&host=a").status, 400);
  EXPECT_EQ(HandlePurge(s, "POST", "/cache/purge?url=relative").status, 400);
  EXPECT_EQ(HandlePurge(s, "POST", "/cache/purge?url=%zz").status, 400);
  EXPECT_EQ(HandlePurge(s, "POST", "/cache/purge?color=red").status, 400);
}

TEST(Purge, UrlIsDecodedAndHostLowered) {
  Store s(1 << 20, 1 << 16);
  s.Insert("http://a.example/p?q=1", std::make_shared<Object>());
  auto a = HandlePurge(s, "PURGE", "/cache/purge?url=http%3A%2F%2FA.Example%2Fp%3Fq%3D1");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "{\"purged\":1}\n");
  EXPECT_NE(StatsJson(s).find("\"purged\":1"), std::string::npos);
}

}  // namespace
}  // namespace keel::cache
