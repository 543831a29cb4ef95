// Field helpers: hop-by-hop names, Connection options, case-insensitive compare,
// reason phrases and status lines.
#include <string>

#include "tests/http1/test_util.h"

namespace keel::http1 {
namespace {

TEST(Fields, HopByHopListOfRfc9110) {
  for (const char* name :
       {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-authenticate", "proxy-authorization", "Connection", "TE", "Transfer-Encoding", "KEEP-ALIVE"}) {
    EXPECT_TRUE(IsHopByHop(name)) << name;
  }
  for (const char* name : {"", "host", "content-length", "tee", "trailers", "upgrade-insecure-requests",
                           "proxy-connectio", "authorization", "x-connection"}) {
    EXPECT_FALSE(IsHopByHop(name)) << name;
  }
}

TEST(Fields, EqualsIgnoreCase) {
  EXPECT_TRUE(EqualsIgnoreCase("Content-Length", "content-LENGTH"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_FALSE(EqualsIgnoreCase("abc", "abd"));
  EXPECT_FALSE(EqualsIgnoreCase("abc", "abcd"));
  // Only ASCII letters fold: '@' (0x40) and '`' (0x60) differ by the case bit.
  EXPECT_FALSE(EqualsIgnoreCase("@", "`"));
  EXPECT_FALSE(EqualsIgnoreCase("\xc9", "\xe9"));
}

TEST(Fields, ConnectionTokens) {
  ConnectionTokens t;
  ASSERT_TRUE(t.Add(" close ,, X-Foo,keep-alive "));
  ASSERT_EQ(t.tokens().size(), 3u);
  EXPECT_EQ(t.tokens()[1], "X-Foo");
  EXPECT_TRUE(t.Contains("x-foo"));
  EXPECT_TRUE(t.Contains("CLOSE"));
  EXPECT_FALSE(t.Contains("upgrade"));
  EXPECT_TRUE(ShouldDropOnForward("X-FOO", t));
  EXPECT_TRUE(ShouldDropOnForward("Proxy-Authorization", t));
  EXPECT_FALSE(ShouldDropOnForward("X-Bar", t));

  ConnectionTokens bad;
  EXPECT_FALSE(bad.Add("close, x y"));
  EXPECT_FALSE(bad.Add("a;b"));

  ConnectionTokens full;
  std::string list;
  for (size_t i = 0; i < ConnectionTokens::kMaxTokens; ++i) list += "t" + std::to_string(i) + ",";
  EXPECT_TRUE(full.Add(list));
  EXPECT_FALSE(full.Add("one-more")) << "a fixed capacity, never an allocation";
}

TEST(Fields, ReasonPhrases) {
  EXPECT_EQ(ReasonPhrase(200), "OK");
  EXPECT_EQ(ReasonPhrase(404), "Not Found");
  EXPECT_EQ(ReasonPhrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(ReasonPhrase(505), "HTTP Version Not Supported");
  EXPECT_EQ(ReasonPhrase(799), "");
}

TEST(Fields, AppendStatusLine) {
  std::string out = "x";
  AppendStatusLine(&out, 502);
  EXPECT_EQ(out, "xHTTP/1.1 502 Bad Gateway\r\n");
  out.clear();
  AppendStatusLine(&out, 200, 0);
  EXPECT_EQ(out, "HTTP/1.0 200 OK\r\n");
  out.clear();
  AppendStatusLine(&out, 799);
  EXPECT_EQ(out, "HTTP/1.1 799 \r\n");
  // Every status the parser can answer has a phrase.
  for (int s : {400, 405, 413, 414, 417, 431, 501, 502, 505}) EXPECT_FALSE(ReasonPhrase(s).empty()) << s;
}

}  // namespace
}  // namespace keel::http1
