// The snapshot hash and version rules.
#include "controller/translate/version.h"

#include <gtest/gtest.h>

#include <set>

namespace keel::translate {
namespace {

TEST(Version, HashSeparatesNearbyInputs) {
  std::set<std::string> seen;
  std::string s;
  for (int i = 0; i < 2000; ++i) {
    s.push_back(static_cast<char>(i % 7));
    ASSERT_TRUE(seen.insert(DigestHex(Hash128(s))).second) << i;
  }
  // Every single-bit flip of a 64-byte input changes the digest.
  std::string base(64, 'x');
  const Digest d0 = Hash128(base);
  for (size_t i = 0; i < base.size() * 8; ++i) {
    std::string flipped = base;
    flipped[i / 8] = static_cast<char>(flipped[i / 8] ^ (1 << (i % 8)));
    EXPECT_FALSE(Hash128(flipped) == d0) << i;
  }
  EXPECT_EQ(Hash128("abc"), Hash128("abc"));
  EXPECT_EQ(DigestHex(Hash128("")).size(), 32u);
}

TEST(Version, IgnoresVersionAndBuildTime) {
  config::v1::Snapshot a;
  a.add_virtual_hosts()->set_name("a.example.test");
  a.add_clusters()->set_name("default/web:80");
  config::v1::Snapshot b = a;
  b.set_version("stale");
  b.set_built_at_unix_ms(12345);
  ComputeVersion(&a);
  SnapshotDigests db = ComputeVersion(&b);
  EXPECT_EQ(a.version(), b.version());
  EXPECT_EQ(b.built_at_unix_ms(), 12345);
  EXPECT_EQ(db.clusters.size(), 1u);
  EXPECT_EQ(VersionFromDigests(db), b.version());
  b.mutable_clusters(0)->add_endpoints()->set_address("10.0.0.1");
  ComputeVersion(&b);
  EXPECT_NE(a.version(), b.version());
}

}  // namespace
}  // namespace keel::translate
