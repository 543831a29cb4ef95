// Annotation value parsers.
#include "controller/translate/values.h"

#include <gtest/gtest.h>

namespace keel::translate {
namespace {

TEST(Values, Bool) {
  for (const char* t : {"1", "t", "T", "true", "TRUE", "True", " true "}) EXPECT_EQ(ParseBool(t), true) << t;
  for (const char* f : {"0", "f", "F", "false", "FALSE", "False"}) EXPECT_EQ(ParseBool(f), false) << f;
  for (const char* bad : {"", "yes", "no", "tRuE", "2"}) EXPECT_FALSE(ParseBool(bad).has_value()) << bad;
}

TEST(Values, UintSizeSeconds) {
  EXPECT_EQ(ParseUint("42"), 42u);
  EXPECT_FALSE(ParseUint("-1").has_value());
  EXPECT_FALSE(ParseUint("101", 100).has_value());
  EXPECT_FALSE(ParseUint("99999999999999999999").has_value());
  EXPECT_EQ(ParseSize("0"), 0u);
  EXPECT_EQ(ParseSize("512"), 512u);
  EXPECT_EQ(ParseSize("8k"), 8u * 1024);
  EXPECT_EQ(ParseSize("8M"), 8u * 1024 * 1024);
  EXPECT_EQ(ParseSize("2g"), 2ull * 1024 * 1024 * 1024);
  EXPECT_FALSE(ParseSize("8x").has_value());
  EXPECT_FALSE(ParseSize("m").has_value());
  EXPECT_FALSE(ParseSize("99999999999999g").has_value());  // overflow
  EXPECT_EQ(ParseSeconds("30"), 30u);
  EXPECT_EQ(ParseSeconds("30s"), 30u);
  EXPECT_EQ(ParseSeconds("5m"), 300u);
  EXPECT_EQ(ParseSeconds("2h"), 7200u);
  EXPECT_EQ(ParseSeconds("1d"), 86400u);
  EXPECT_FALSE(ParseSeconds("1h30m").has_value());
  EXPECT_FALSE(ParseSeconds("soon").has_value());
}

TEST(Values, Cidr) {
  EXPECT_EQ(ParseCidr("10.0.0.0/8"), "10.0.0.0/8");
  EXPECT_EQ(ParseCidr(" 192.168.1.1 "), "192.168.1.1/32");
  EXPECT_EQ(ParseCidr("2001:DB8:0:0::/32"), "2001:db8::/32");
  EXPECT_EQ(ParseCidr("::1"), "::1/128");
  EXPECT_FALSE(ParseCidr("10.0.0.0/33").has_value());
  EXPECT_FALSE(ParseCidr("300.1.1.1").has_value());
  EXPECT_FALSE(ParseCidr("10.0.0.0/").has_value());
  EXPECT_FALSE(ParseCidr("host.example").has_value());
  EXPECT_TRUE(IsIpLiteral("fd00::1"));
  EXPECT_FALSE(IsIpLiteral("10.0.0"));
}

TEST(Values, RedirectUrl) {
  auto t = ParseRedirectUrl("https://New.Example.test:8443/a/b?x=1#frag");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->scheme, "https");
  EXPECT_EQ(t->host, "new.example.test");
  EXPECT_EQ(t->port, 8443u);
  EXPECT_EQ(t->path, "/a/b?x=1");
  auto bare = ParseRedirectUrl("http://example.test");
  ASSERT_TRUE(bare.has_value());
  EXPECT_EQ(bare->path, "/");
  EXPECT_EQ(bare->port, 0u);
  for (const char* bad : {"/relative", "ftp://x.test/", "https://", "https://user@x.test/",
                          "https://x.test:0/", "https://x.test/a b"}) {
    EXPECT_FALSE(ParseRedirectUrl(bad).has_value()) << bad;
  }
}

TEST(Values, ListsAndHeaders) {
  auto items = SplitList(" a, b ,,c ");
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0], "a");
  EXPECT_EQ(items[2], "c");
  EXPECT_TRUE(IsHeaderName("X-Canary"));
  EXPECT_FALSE(IsHeaderName("X Canary"));
  EXPECT_FALSE(IsHeaderName(""));
  EXPECT_FALSE(IsHeaderName("a:b"));
}

}  // namespace
}  // namespace keel::translate
