// Allow/deny CIDR lists as nginx's whitelist-source-range and denylist-source-range.
#include "dataplane/proxy/access_list.h"

#include <gtest/gtest.h>

namespace keel::proxy {
namespace {

TEST(AccessList, AllowListMatchesPrefixes) {
  auto l = AccessList::Parse({"10.0.0.0/8", "192.168.1.7", "2001:db8::/32"}, {});
  ASSERT_TRUE(l.ok()) << l.error();
  EXPECT_TRUE(l->Allows("10.1.2.3"));
  EXPECT_TRUE(l->Allows("192.168.1.7"));
  EXPECT_FALSE(l->Allows("192.168.1.8"));
  EXPECT_FALSE(l->Allows("11.0.0.1"));
  EXPECT_TRUE(l->Allows("2001:db8:ffff::1"));
  EXPECT_FALSE(l->Allows("2001:db9::1"));
  EXPECT_FALSE(l->Allows("not-an-ip"));
}

TEST(AccessList, DenyWinsInsideAllow) {
  auto l = AccessList::Parse({"10.0.0.0/8"}, {"10.9.0.0/16"});
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(l->Allows("10.8.0.1"));
  EXPECT_FALSE(l->Allows("10.9.0.1"));
  auto deny_only = AccessList::Parse({}, {"0.0.0.0/1"});
  ASSERT_TRUE(deny_only.ok());
  EXPECT_FALSE(deny_only->Allows("1.2.3.4"));
  EXPECT_TRUE(deny_only->Allows("200.1.1.1"));
}

TEST(AccessList, OddPrefixLengths) {
  auto l = AccessList::Parse({"172.16.0.0/12", "0.0.0.0/0"}, {});
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(l->Allows("172.31.255.255"));
  auto l2 = AccessList::Parse({"172.16.0.0/12"}, {});
  EXPECT_FALSE(l2->Allows("172.32.0.0"));
  EXPECT_TRUE(l2->Allows("172.16.0.1"));
}

TEST(AccessList, RejectsMalformed) {
  EXPECT_FALSE(AccessList::Parse({"10.0.0.0/33"}, {}).ok());
  EXPECT_FALSE(AccessList::Parse({"10.0.0/8"}, {}).ok());
  EXPECT_FALSE(AccessList::Parse({}, {"::/129"}).ok());
  EXPECT_FALSE(AccessList::Parse({"10.0.0.0/x"}, {}).ok());
}

}  // namespace
}  // namespace keel::proxy
