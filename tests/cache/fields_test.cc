// Cache-Control and HTTP-date parsing (RFC 9111 §5.2, §1.2.2, §4.2.1; RFC 9110 §5.6.7).
#include "dataplane/cache/fields.h"

#include <gtest/gtest.h>

namespace keel::cache {
namespace {

TEST(CacheControl, ParsesResponseDirectives) {
  auto d = ParseCacheControl("public, max-age=60, s-maxage=120, must-revalidate, no-transform");
  EXPECT_TRUE(d.public_);
  EXPECT_EQ(d.max_age, 60);
  EXPECT_EQ(d.s_maxage, 120);
  EXPECT_TRUE(d.must_revalidate);
  EXPECT_TRUE(d.no_transform);
  EXPECT_FALSE(d.no_store);
}

TEST(CacheControl, DirectiveNamesAreCaseInsensitive) {
  auto d = ParseCacheControl("No-Store, MAX-AGE=5");
  EXPECT_TRUE(d.no_store);
  EXPECT_EQ(d.max_age, 5);
}

TEST(CacheControl, QuotedDeltaIsAccepted) { EXPECT_EQ(ParseCacheControl("max-age=\"30\"").max_age, 30); }

TEST(CacheControl, InvalidMaxAgeMeansStale) {
  // §4.2.1: an invalid freshness directive makes the response stale (lifetime 0).
  EXPECT_EQ(ParseCacheControl("max-age=abc").max_age, 0);
  EXPECT_EQ(ParseCacheControl("max-age=-1").max_age, 0);
}

TEST(CacheControl, ConflictingDuplicateMaxAgeMeansStale) {
  EXPECT_EQ(ParseCacheControl("max-age=60, max-age=120").max_age, 0);
  EXPECT_EQ(ParseCacheControl("max-age=60, max-age=60").max_age, 60);
}

TEST(CacheControl, HugeDeltaIsClampedTo2Pow31) {
  EXPECT_EQ(ParseCacheControl("max-age=99999999999999999999").max_age, int64_t{1} << 31);
}

TEST(CacheControl, QualifiedPrivateAndNoCacheListFields) {
  auto d = ParseCacheControl("private=\"Set-Cookie, X-User\", no-cache=\"x-a\"");
  EXPECT_FALSE(d.private_);
  EXPECT_FALSE(d.no_cache);
  ASSERT_EQ(d.private_fields.size(), 2u);
  EXPECT_EQ(d.private_fields[0], "set-cookie");
  EXPECT_EQ(d.private_fields[1], "x-user");
  ASSERT_EQ(d.no_cache_fields.size(), 1u);
}

TEST(CacheControl, Rfc5861Extensions) {
  auto d = ParseCacheControl("max-age=1, stale-while-revalidate=30, stale-if-error=600");
  EXPECT_EQ(d.stale_while_revalidate, 30);
  EXPECT_EQ(d.stale_if_error, 600);
}

TEST(CacheControl, RequestMaxStaleWithAndWithoutValue) {
  EXPECT_TRUE(ParseCacheControl("max-stale").max_stale_any);
  auto d = ParseCacheControl("max-stale=10, min-fresh=5, only-if-cached");
  EXPECT_EQ(d.max_stale, 10);
  EXPECT_EQ(d.min_fresh, 5);
  EXPECT_TRUE(d.only_if_cached);
}

TEST(CacheControl, UnknownExtensionsAreIgnored) {
  auto d = ParseCacheControl("community=\"UCI\", max-age=3");
  EXPECT_EQ(d.max_age, 3);
}

TEST(HttpDate, AllThreeFormsGiveTheSameInstant) {
  // RFC 9110 §5.6.7 example: 784111777.
  EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(ParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
  EXPECT_EQ(ParseHttpDate("Sun Nov  6 08:49:37 1994"), 784111777);
}

TEST(HttpDate, GarbageIsInvalid) {
  EXPECT_FALSE(ParseHttpDate("0"));
  EXPECT_FALSE(ParseHttpDate("yesterday"));
  EXPECT_FALSE(ParseHttpDate("Sun, 06 Foo 1994 08:49:37 GMT"));
  EXPECT_FALSE(ParseHttpDate("Sun, 06 Nov 1994 25:49:37 GMT"));
}

// Signs and wrong widths: found by review next to the fuzz target, confirmed with
// fuzz_cache_fields under UBSan (signed overflow in `tm_year -= 1900`); the input is in
// tests/fuzz/crashes/cache/ and replayed by CacheCorpusReplay.SavedCrashes.
TEST(HttpDate, NumbersAreUnsignedDigitsOfTheRightWidth) {
  EXPECT_FALSE(ParseHttpDate("Sun Nov  6 08:49:37 -2147483648"));
  EXPECT_FALSE(ParseHttpDate("Sun Nov  6 08:49:37 99999999999"));
  EXPECT_FALSE(ParseHttpDate("Sun Nov  6 08:49:37 19945"));
  EXPECT_FALSE(ParseHttpDate("Sun, 06 Nov -994 08:49:37 GMT"));
  EXPECT_FALSE(ParseHttpDate("Sun, 06 Nov 1994 08:-1:37 GMT"));
  EXPECT_FALSE(ParseHttpDate("Sun, +6 Nov 1994 08:49:37 GMT"));
  EXPECT_FALSE(ParseHttpDate("Sun Nov -6 08:49:37 1994"));
  EXPECT_FALSE(ParseHttpDate("Sun Nov 006 08:49:37 1994"));
  EXPECT_EQ(ParseHttpDate("Sun Nov 06 08:49:37 1994"), 784111777);  // date3's 2DIGIT form
}

TEST(HttpDate, FormatRoundTrips) {
  EXPECT_EQ(FormatHttpDate(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(ParseHttpDate(FormatHttpDate(1700000000)), 1700000000);
}

TEST(Fields, ListsSplitOutsideQuotes) {
  auto v = SplitList(" a, \"b,c\" ,, d ");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[1], "\"b,c\"");
}

}  // namespace
}  // namespace keel::cache
