// Host normalisation and path-match decisions.
#include "controller/translate/hosts_paths.h"

#include <gtest/gtest.h>

namespace keel::translate {
namespace {

using config::v1::RouteMatch;

TEST(Hosts, Normalize) {
  EXPECT_EQ(NormalizeHost("Demo.Example.TEST").value(), "demo.example.test");
  EXPECT_EQ(NormalizeHost("*.example.test").value(), "*.example.test");
  EXPECT_EQ(NormalizeHost("localhost").value(), "localhost");
  EXPECT_EQ(NormalizeHost("a-b.c0.example").value(), "a-b.c0.example");
  for (const char* bad :
       {"", "10.0.0.1", "1.2.3", "::1", "[::1]", "host:80", "foo.*.test", "*foo.test", "*", "*.", "a..b",
        "-a.test", "a-.test", "under_score.test", "trailing.dot.", "sp ace.test"}) {
    EXPECT_FALSE(NormalizeHost(bad).ok()) << bad;
  }
  EXPECT_FALSE(NormalizeHost(std::string(64, 'a') + ".test").ok());
  EXPECT_TRUE(NormalizeHost(std::string(63, 'a') + ".test").ok());
}

TEST(Hosts, WildcardParent) {
  EXPECT_EQ(WildcardParent("a.b.c"), "*.b.c");
  EXPECT_EQ(WildcardParent("single"), "");
  EXPECT_EQ(WildcardParent("*.b.c"), "");
}

TEST(Paths, Decisions) {
  struct Case {
    const char* path;
    const char* type;
    bool regex_mode;
    RouteMatch::PathKind kind;
    const char* out;
  };
  const Case cases[] = {
      {"/api", "Prefix", false, RouteMatch::PREFIX, "/api"},
      {"/api/", "Prefix", false, RouteMatch::PREFIX, "/api"},
      {"/", "Prefix", false, RouteMatch::PREFIX, "/"},
      {"//", "Prefix", false, RouteMatch::PREFIX, "/"},
      {"/api/", "Exact", false, RouteMatch::EXACT, "/api/"},
      {"/api(/|$)(.*)", "Exact", true, RouteMatch::EXACT, "/api(/|$)(.*)"},  // Exact is always literal
      {"/static", "ImplementationSpecific", false, RouteMatch::PREFIX, "/static"},
      {"", "ImplementationSpecific", false, RouteMatch::PREFIX, "/"},
      {"/file.txt", "ImplementationSpecific", false, RouteMatch::PREFIX, "/file.txt"},
      {"/v[0-9]+", "ImplementationSpecific", false, RouteMatch::REGEX, "/v[0-9]+"},
      {"^/anchored", "ImplementationSpecific", false, RouteMatch::REGEX, "/anchored"},
      {"/api(/|$)(.*)", "Prefix", true, RouteMatch::REGEX, "/api(/|$)(.*)"},
      {"/api/.*", "Prefix", false, RouteMatch::PREFIX, "/api/.*"},  // literal + warning
  };
  for (const Case& c : cases) {
    PathResult r = ResolvePath(c.path, c.type, c.regex_mode);
    ASSERT_TRUE(r.ok) << c.path << " " << c.type << ": " << r.message;
    EXPECT_EQ(r.match.kind, c.kind) << c.path;
    EXPECT_EQ(r.match.path, c.out) << c.path;
  }
  EXPECT_TRUE(ResolvePath("/api/.*", "Prefix", false).match.looks_like_regex);
  EXPECT_EQ(ResolvePath("/a(b)(c)", "ImplementationSpecific", false).match.capture_groups, 2);
}

TEST(Paths, Rejections) {
  EXPECT_EQ(ResolvePath("/x", "", false).reason, "InvalidPathType");
  EXPECT_EQ(ResolvePath("/x", "Glob", false).reason, "InvalidPathType");
  EXPECT_EQ(ResolvePath("", "Prefix", false).reason, "InvalidPath");
  EXPECT_EQ(ResolvePath("x", "Prefix", false).reason, "InvalidPath");
  EXPECT_EQ(ResolvePath("/a b", "Exact", false).reason, "InvalidPath");
  EXPECT_EQ(ResolvePath("/a#b", "Prefix", false).reason, "InvalidPath");
  EXPECT_EQ(ResolvePath("/a/./b", "Prefix", false).reason, "InvalidPath");
  EXPECT_EQ(ResolvePath("/a/..", "Exact", false).reason, "InvalidPath");
  EXPECT_EQ(ResolvePath("/(", "ImplementationSpecific", false).reason, "InvalidRegex");
  EXPECT_EQ(ResolvePath("x(", "ImplementationSpecific", false).reason, "InvalidPath");
}

}  // namespace
}  // namespace keel::translate
