// NormalizePath (RFC 3986 §5.2.4/§6.2.2), host normalisation and host-name validation.
#include "dataplane/router/path.h"

#include <gtest/gtest.h>

namespace keel::router {
namespace {

std::string Norm(std::string_view in, bool merge = false) {
  std::string out = "garbage from a previous request";
  Status st = NormalizePath(in, &out, NormalizeOptions{merge});
  return st.ok() ? out : "ERROR: " + st.error();
}

TEST(NormalizePath, RemovesDotSegments) {
  EXPECT_EQ(Norm("/a/b/c/./../../g"), "/a/g");  // RFC 3986 §5.2.4's own example
  EXPECT_EQ(Norm("/a/b/../c"), "/a/c");
  EXPECT_EQ(Norm("/a/./b/"), "/a/b/");
  EXPECT_EQ(Norm("/a/."), "/a/");
  EXPECT_EQ(Norm("/a/b/.."), "/a/");
  EXPECT_EQ(Norm("/a/.."), "/");
  EXPECT_EQ(Norm("/.."), "/");
  EXPECT_EQ(Norm("/../../x"), "/x");
  EXPECT_EQ(Norm("/."), "/");
  EXPECT_EQ(Norm("/"), "/");
  EXPECT_EQ(Norm("/a//.."), "/a/");
  EXPECT_EQ(Norm("/a/..b/.c"), "/a/..b/.c");  // only whole "." / ".." segments
}

TEST(NormalizePath, DecodesUnreservedOnlyAfterwardsDotsCount) {
  EXPECT_EQ(Norm("/%7Euser/%41%62c"), "/~user/Abc");
  EXPECT_EQ(Norm("/public/%2e%2e/admin"), "/admin");  // the path-confusion bypass
  EXPECT_EQ(Norm("/public/%2E%2e/admin"), "/admin");
  EXPECT_EQ(Norm("/a%2fb"), "/a%2Fb");  // reserved: stays encoded, hex upper-cased
  EXPECT_EQ(Norm("/a%2F..%2Fb"), "/a%2F..%2Fb");
  EXPECT_EQ(Norm("/a%20b%3f"), "/a%20b%3F");
}

TEST(NormalizePath, QueryIsCopiedVerbatim) {
  EXPECT_EQ(Norm("/a/../b?x=/../%2e&y"), "/b?x=/../%2e&y");
  EXPECT_EQ(Norm("/?"), "/?");
}

TEST(NormalizePath, MergeSlashesIsOptional) {
  EXPECT_EQ(Norm("//a///b//"), "//a///b//");
  EXPECT_EQ(Norm("//a///b//", true), "/a/b/");
  EXPECT_EQ(Norm("//", true), "/");
  EXPECT_EQ(Norm("/a//../b", true), "/b");
}

TEST(NormalizePath, RejectsMalformedTargets) {
  EXPECT_EQ(Norm("a/b").rfind("ERROR", 0), 0u);
  EXPECT_EQ(Norm("").rfind("ERROR", 0), 0u);
  EXPECT_EQ(Norm("?x").rfind("ERROR", 0), 0u);
  EXPECT_EQ(Norm("/%zz").rfind("ERROR", 0), 0u);
  EXPECT_EQ(Norm("/%4").rfind("ERROR", 0), 0u);
  EXPECT_EQ(Norm("/abc%").rfind("ERROR", 0), 0u);
  EXPECT_EQ(Norm("/abc%?x").rfind("ERROR", 0), 0u);
  EXPECT_EQ(Norm("/ok?%zz"), "/ok?%zz");  // the query is not ours to judge
}

TEST(PathPrefix, ElementWise) {
  EXPECT_TRUE(PathPrefixMatches("/foo", "/foo"));
  EXPECT_TRUE(PathPrefixMatches("/foo", "/foo/"));
  EXPECT_TRUE(PathPrefixMatches("/foo", "/foo/bar"));
  EXPECT_FALSE(PathPrefixMatches("/foo", "/foobar"));
  EXPECT_FALSE(PathPrefixMatches("/foo", "/fo"));
  EXPECT_TRUE(PathPrefixMatches("", "/anything"));
}

TEST(NormalizeHost, CaseFoldsStripsPortAndTrailingDot) {
  char buf[kMaxHost];
  std::string_view out;
  ASSERT_TRUE(NormalizeHost("Demo.Example.COM:8443", buf, &out));
  EXPECT_EQ(out, "demo.example.com");
  ASSERT_TRUE(NormalizeHost("demo.example.com.", buf, &out));
  EXPECT_EQ(out, "demo.example.com");
  ASSERT_TRUE(NormalizeHost("demo.example.com.:80", buf, &out));
  EXPECT_EQ(out, "demo.example.com");
  ASSERT_TRUE(NormalizeHost("[FD00::1]:443", buf, &out));
  EXPECT_EQ(out, "[fd00::1]");
  ASSERT_TRUE(NormalizeHost("", buf, &out));
  EXPECT_EQ(out, "");
  EXPECT_FALSE(NormalizeHost(std::string(300, 'a'), buf, &out));
}

TEST(VirtualHostName, Validation) {
  std::string why;
  EXPECT_TRUE(ValidVirtualHostName("demo.example.com", &why));
  EXPECT_TRUE(ValidVirtualHostName("*.example.com", &why));
  EXPECT_TRUE(ValidVirtualHostName("localhost", &why));
  for (const char* bad : {"", "*.", "*", "Demo.example.com", "a..b", "-a.b", "a-.b", "a_b.c", "*.*.a",
                          "a.*.b", "example.com.", "a b"}) {
    EXPECT_FALSE(ValidVirtualHostName(bad, &why)) << bad;
  }
  EXPECT_FALSE(ValidVirtualHostName(std::string(64, 'a') + ".com", &why));
  EXPECT_EQ(why, "label longer than 63 characters");
}

}  // namespace
}  // namespace keel::router
