// RFC 9111 (shared cache) and RFC 5861 rules, each case against a fixed clock.
#include "dataplane/cache/policy.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <utility>

namespace keel::cache {
namespace {

constexpr int64_t T = 1700000000;  // "now" when the response arrived

Fields H(std::initializer_list<std::pair<const char*, const char*>> hs) {
  Fields f;
  for (auto& [n, v] : hs) f.Add(n, v);
  return f;
}

Request Req(std::initializer_list<std::pair<const char*, const char*>> hs = {}, const char* method = "GET") {
  return Request{method, H(hs)};
}

Object Obj(int status, std::initializer_list<std::pair<const char*, const char*>> hs, int64_t ttl = 0) {
  return MakeObject(status, H(hs), T, T, ttl);
}

std::string Date(int64_t t) { return FormatHttpDate(t); }

bool Storable(const Request& r, int status, const Fields& h, StoreRules rules = {}) {
  return NotStorableReason(r, status, h, rules) == nullptr;
}

// ───── §3 storing ─────

TEST(Storable, FreshGet200IsStored) {
  EXPECT_TRUE(Storable(Req(), 200, H({{"cache-control", "max-age=60"}})));
}

TEST(Storable, OnlyGetResponsesAreStored) {
  EXPECT_STREQ(NotStorableReason(Req({}, "POST"), 200, H({{"cache-control", "max-age=60"}}), {}), "method");
  EXPECT_STREQ(NotStorableReason(Req({}, "HEAD"), 200, H({{"cache-control", "max-age=60"}}), {}), "method");
}

TEST(Storable, PartialAndNotModifiedAreNotStored) {
  EXPECT_FALSE(Storable(Req(), 206, H({{"cache-control", "max-age=60"}})));
  EXPECT_FALSE(Storable(Req(), 304, H({{"cache-control", "max-age=60"}})));
}

TEST(Storable, NoStoreInResponse) {
  EXPECT_STREQ(NotStorableReason(Req(), 200, H({{"cache-control", "no-store, max-age=60"}}), {}), "no-store");
}

TEST(Storable, NoStoreInRequest) {
  EXPECT_FALSE(Storable(Req({{"cache-control", "no-store"}}), 200, H({{"cache-control", "max-age=60"}})));
}

TEST(Storable, PrivateIsNeverStoredByASharedCache) {
  EXPECT_STREQ(NotStorableReason(Req(), 200, H({{"cache-control", "private, max-age=60"}}), {}), "private");
}

TEST(Storable, QualifiedPrivateStillStoresTheRest) {
  EXPECT_TRUE(Storable(Req(), 200, H({{"cache-control", "private=\"x-user\", max-age=60"}})));
}

TEST(Storable, AuthorizationNeedsExplicitPermission) {
  auto auth = Req({{"authorization", "Bearer x"}});
  EXPECT_STREQ(NotStorableReason(auth, 200, H({{"cache-control", "max-age=60"}}), {}), "authorization");
  EXPECT_TRUE(Storable(auth, 200, H({{"cache-control", "public, max-age=60"}})));
  EXPECT_TRUE(Storable(auth, 200, H({{"cache-control", "s-maxage=60"}})));
  EXPECT_TRUE(Storable(auth, 200, H({{"cache-control", "must-revalidate, max-age=60"}})));
}

TEST(Storable, SetCookieOnlyWhenAllowed) {
  auto h = H({{"cache-control", "max-age=60"}, {"set-cookie", "s=1"}});
  EXPECT_STREQ(NotStorableReason(Req(), 200, h, {}), "set-cookie");
  EXPECT_TRUE(Storable(Req(), 200, h, StoreRules{0, true}));
}

TEST(Storable, VaryStarIsNotStored) {
  EXPECT_FALSE(Storable(Req(), 200, H({{"cache-control", "max-age=60"}, {"vary", "*"}})));
}

TEST(Storable, NonHeuristicStatusNeedsExplicitFreshness) {
  EXPECT_FALSE(Storable(Req(), 302, H({})));
  EXPECT_TRUE(Storable(Req(), 302, H({{"cache-control", "max-age=60"}})));
  EXPECT_FALSE(Storable(Req(), 500, H({})));
}

TEST(Storable, HeuristicallyCacheableStatusWithoutFreshness) {
  EXPECT_TRUE(Storable(Req(), 404, H({})));
  EXPECT_TRUE(Storable(Req(), 301, H({})));
  EXPECT_TRUE(HeuristicallyCacheable(410));
  EXPECT_FALSE(HeuristicallyCacheable(302));
}

TEST(Storable, NoCacheResponseIsStoredButAlwaysValidated) {
  EXPECT_TRUE(Storable(Req(), 200, H({{"cache-control", "no-cache"}, {"etag", "\"a\""}})));
  auto o = Obj(200, {{"cache-control", "no-cache, max-age=600"}});
  EXPECT_EQ(Evaluate(o, Req(), T), Verdict::kRevalidate);
}

TEST(Storable, MustUnderstandWithUnknownStatus) {
  EXPECT_FALSE(Storable(Req(), 299, H({{"cache-control", "must-understand, no-store, max-age=5"}})));
  EXPECT_TRUE(Storable(Req(), 200, H({{"cache-control", "must-understand, no-store, max-age=5"}})));
}

// ───── §4.2.1 freshness lifetime ─────

TEST(Freshness, SMaxageBeatsMaxAge) {
  EXPECT_EQ(Obj(200, {{"cache-control", "max-age=10, s-maxage=99"}}).freshness_lifetime, 99);
}

TEST(Freshness, MaxAgeBeatsExpires) {
  auto e = Date(T + 500);
  auto o = MakeObject(200, H({{"cache-control", "max-age=10"}, {"expires", e.c_str()}}), T, T, 0);
  EXPECT_EQ(o.freshness_lifetime, 10);
}

TEST(Freshness, ExpiresMinusDate) {
  auto d = Date(T - 100), e = Date(T + 200);
  auto o = MakeObject(200, H({{"date", d.c_str()}, {"expires", e.c_str()}}), T, T, 0);
  EXPECT_EQ(o.freshness_lifetime, 300);
}

TEST(Freshness, InvalidExpiresIsAlreadyExpired) {
  EXPECT_EQ(Obj(200, {{"expires", "0"}}, 3600).freshness_lifetime, 0);
}

TEST(Freshness, HeuristicIsTenPercentOfLastModifiedAge) {
  auto d = Date(T), lm = Date(T - 1000);
  EXPECT_EQ(
      MakeObject(200, H({{"date", d.c_str()}, {"last-modified", lm.c_str()}}), T, T, 0).freshness_lifetime,
      100);
  auto old = Date(T - 100 * 86400);
  EXPECT_EQ(
      MakeObject(200, H({{"date", d.c_str()}, {"last-modified", old.c_str()}}), T, T, 0).freshness_lifetime,
      86400);  // capped at one day
}

TEST(Freshness, NoHeuristicForOtherStatusesUnlessPublic) {
  auto lm = Date(T - 1000);
  EXPECT_EQ(MakeObject(302, H({{"last-modified", lm.c_str()}}), T, T, 50).freshness_lifetime, 0);
  EXPECT_EQ(MakeObject(302, H({{"last-modified", lm.c_str()}, {"cache-control", "public"}}), T, T, 50)
                .freshness_lifetime,
            100);
}

TEST(Freshness, DefaultTtlWhenNothingElse) {
  EXPECT_EQ(Obj(200, {}, 42).freshness_lifetime, 42);
  EXPECT_EQ(Obj(200, {}, 0).freshness_lifetime, 0);
}

// ───── §4.2.3 age ─────

TEST(Age, AgeHeaderCounts) { EXPECT_EQ(CurrentAge(Obj(200, {{"age", "30"}}), T), 30); }

TEST(Age, ApparentAgeFromAnOldDate) {
  auto d = Date(T - 40);
  EXPECT_EQ(CurrentAge(MakeObject(200, H({{"date", d.c_str()}}), T, T, 0), T), 40);
}

TEST(Age, ResidentTimeAndResponseDelayAdd) {
  auto o = MakeObject(200, H({{"age", "10"}}), T - 2, T, 0);
  EXPECT_EQ(CurrentAge(o, T + 5), 10 + 2 + 5);
}

TEST(Age, InvalidAgeIsIgnored) { EXPECT_EQ(CurrentAge(Obj(200, {{"age", "-5"}}), T), 0); }

// ───── §4.2 / §5.2.1 serving ─────

TEST(Evaluate, FreshWithinMaxAge) {
  auto o = Obj(200, {{"cache-control", "max-age=60"}});
  EXPECT_EQ(Evaluate(o, Req(), T + 59), Verdict::kFresh);
  EXPECT_EQ(Evaluate(o, Req(), T + 60), Verdict::kRevalidate);
}

TEST(Evaluate, RequestNoCacheForcesValidation) {
  auto o = Obj(200, {{"cache-control", "max-age=60"}});
  EXPECT_EQ(Evaluate(o, Req({{"cache-control", "no-cache"}}), T), Verdict::kRevalidate);
}

TEST(Evaluate, PragmaNoCacheOnlyWithoutCacheControl) {
  auto o = Obj(200, {{"cache-control", "max-age=60"}});
  EXPECT_EQ(Evaluate(o, Req({{"pragma", "no-cache"}}), T), Verdict::kRevalidate);
  EXPECT_EQ(Evaluate(o, Req({{"pragma", "no-cache"}, {"cache-control", "max-age=600"}}), T), Verdict::kFresh);
}

TEST(Evaluate, RequestMaxAgeLimitsAcceptableAge) {
  auto o = Obj(200, {{"cache-control", "max-age=600"}});
  EXPECT_EQ(Evaluate(o, Req({{"cache-control", "max-age=10"}}), T + 11), Verdict::kRevalidate);
  EXPECT_EQ(Evaluate(o, Req({{"cache-control", "max-age=10"}}), T + 9), Verdict::kFresh);
}

TEST(Evaluate, RequestMinFresh) {
  auto o = Obj(200, {{"cache-control", "max-age=60"}});
  EXPECT_EQ(Evaluate(o, Req({{"cache-control", "min-fresh=30"}}), T + 40), Verdict::kRevalidate);
  EXPECT_EQ(Evaluate(o, Req({{"cache-control", "min-fresh=30"}}), T + 20), Verdict::kFresh);
}

TEST(Evaluate, RequestMaxStaleAcceptsStale) {
  auto o = Obj(200, {{"cache-control", "max-age=10"}});
  EXPECT_EQ(Evaluate(o, Req({{"cache-control", "max-stale=5"}}), T + 14), Verdict::kStaleWhileRevalidate);
  EXPECT_EQ(Evaluate(o, Req({{"cache-control", "max-stale=5"}}), T + 16), Verdict::kRevalidate);
  EXPECT_EQ(Evaluate(o, Req({{"cache-control", "max-stale"}}), T + 9999), Verdict::kStaleWhileRevalidate);
}

TEST(Evaluate, MustRevalidateBeatsMaxStale) {
  auto o = Obj(200, {{"cache-control", "max-age=10, must-revalidate"}});
  EXPECT_EQ(Evaluate(o, Req({{"cache-control", "max-stale"}}), T + 11), Verdict::kRevalidate);
}

TEST(Evaluate, StaleWhileRevalidateWindow) {
  auto o = Obj(200, {{"cache-control", "max-age=10, stale-while-revalidate=20"}});
  EXPECT_EQ(Evaluate(o, Req(), T + 25), Verdict::kStaleWhileRevalidate);
  EXPECT_EQ(Evaluate(o, Req(), T + 31), Verdict::kRevalidate);
}

TEST(Evaluate, StaleWhileRevalidateIgnoredUnderRevalidationDirectives) {
  for (const char* cc : {"max-age=10, stale-while-revalidate=20, must-revalidate",
                         "max-age=10, stale-while-revalidate=20, proxy-revalidate",
                         "s-maxage=10, stale-while-revalidate=20"}) {
    EXPECT_EQ(Evaluate(Obj(200, {{"cache-control", cc}}), Req(), T + 15), Verdict::kRevalidate) << cc;
  }
}

// ───── RFC 5861 §4 stale-if-error and grace ─────

TEST(OnError, StaleIfErrorWindow) {
  auto o = Obj(200, {{"cache-control", "max-age=10, stale-if-error=60"}});
  EXPECT_TRUE(UsableOnError(o, T + 60, 0, false));
  EXPECT_FALSE(UsableOnError(o, T + 71, 0, false));
}

TEST(OnError, GraceOnlyWhenNoResponseAtAll) {
  auto o = Obj(200, {{"cache-control", "max-age=10"}});
  EXPECT_TRUE(UsableOnError(o, T + 100, 300, true));
  EXPECT_FALSE(UsableOnError(o, T + 100, 300, false));  // a 5xx came back: stale-if-error only
  EXPECT_FALSE(UsableOnError(o, T + 400, 300, true));
}

TEST(OnError, MustRevalidateForbidsStaleEvenInGrace) {
  auto o = Obj(200, {{"cache-control", "max-age=10, must-revalidate, stale-if-error=600"}});
  EXPECT_FALSE(UsableOnError(o, T + 20, 3600, true));
}

TEST(OnError, FreshIsAlwaysUsable) {
  EXPECT_TRUE(UsableOnError(Obj(200, {{"cache-control", "max-age=100"}}), T + 5, 0, false));
}

// ───── §4.3 validation ─────

TEST(Validation, ConditionalHeadersCarryBothValidators) {
  auto o = Obj(200, {{"etag", "\"v1\""}, {"last-modified", "Sun, 06 Nov 1994 08:49:37 GMT"}});
  EXPECT_TRUE(HasValidator(o));
  EXPECT_EQ(ConditionalHeaders(o),
            "if-none-match: \"v1\"\r\nif-modified-since: Sun, 06 Nov 1994 08:49:37 GMT\r\n");
  EXPECT_FALSE(HasValidator(Obj(200, {})));
}

TEST(Validation, NotModifiedFreshensHeadersAndLifetime) {
  auto o = MakeObject(200, H({{"cache-control", "max-age=10"}, {"etag", "\"v1\""}, {"x-a", "old"}}), T, T, 0);
  o.body = "hello";
  auto f = Freshen(o, H({{"cache-control", "max-age=99"}, {"x-a", "new"}, {"content-length", "0"}}), T + 50,
                   T + 50, 0);
  EXPECT_EQ(f.freshness_lifetime, 99);
  EXPECT_EQ(f.headers.Get("x-a"), "new");
  EXPECT_FALSE(f.headers.Has("content-length"));
  EXPECT_EQ(f.body, "hello");
  EXPECT_EQ(Evaluate(f, Req(), T + 100), Verdict::kFresh);
}

TEST(Conditional, IfNoneMatchUsesWeakComparison) {
  auto o = Obj(200, {{"etag", "W/\"v1\""}});
  EXPECT_TRUE(ClientNotModified(o, Req({{"if-none-match", "\"x\", \"v1\""}})));
  EXPECT_FALSE(ClientNotModified(o, Req({{"if-none-match", "\"v2\""}})));
  EXPECT_TRUE(ClientNotModified(o, Req({{"if-none-match", "*"}})));
}

TEST(Conditional, IfModifiedSince) {
  auto o = Obj(200, {{"last-modified", "Sun, 06 Nov 1994 08:49:37 GMT"}});
  EXPECT_TRUE(ClientNotModified(o, Req({{"if-modified-since", "Sun, 06 Nov 1994 08:49:37 GMT"}})));
  EXPECT_FALSE(ClientNotModified(o, Req({{"if-modified-since", "Sat, 05 Nov 1994 08:49:37 GMT"}})));
  EXPECT_FALSE(ClientNotModified(o, Req({{"if-modified-since", "not a date"}})));
}

TEST(Conditional, IfNoneMatchTakesPrecedenceOverIfModifiedSince) {
  auto o = Obj(200, {{"etag", "\"v1\""}, {"last-modified", "Sun, 06 Nov 1994 08:49:37 GMT"}});
  EXPECT_FALSE(ClientNotModified(
      o, Req({{"if-none-match", "\"v2\""}, {"if-modified-since", "Sun, 06 Nov 1994 08:49:37 GMT"}})));
}

TEST(Conditional, OnlyForGetAndHead) {
  auto o = Obj(200, {{"etag", "\"v1\""}});
  EXPECT_TRUE(ClientNotModified(o, Req({{"if-none-match", "\"v1\""}}, "HEAD")));
  EXPECT_FALSE(ClientNotModified(o, Req({{"if-none-match", "\"v1\""}}, "POST")));
}

// ───── RFC 9110 §14 ranges on a stored 200 ─────

Object Body(const char* body, std::initializer_list<std::pair<const char*, const char*>> hs = {}) {
  auto o = Obj(200, hs);
  o.body = body;
  return o;
}

TEST(Range, FirstBytes) {
  ByteRange r;
  ASSERT_EQ(EvaluateRange(Body("0123456789"), Req({{"range", "bytes=0-4"}}), &r), RangeOutcome::kPartial);
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(r.last, 4u);
}

TEST(Range, SuffixAndOpenEnded) {
  ByteRange r;
  ASSERT_EQ(EvaluateRange(Body("0123456789"), Req({{"range", "bytes=-3"}}), &r), RangeOutcome::kPartial);
  EXPECT_EQ(r.first, 7u);
  ASSERT_EQ(EvaluateRange(Body("0123456789"), Req({{"range", "bytes=8-"}}), &r), RangeOutcome::kPartial);
  EXPECT_EQ(r.last, 9u);
  ASSERT_EQ(EvaluateRange(Body("0123456789"), Req({{"range", "bytes=5-999"}}), &r), RangeOutcome::kPartial);
  EXPECT_EQ(r.last, 9u);
}

TEST(Range, BeyondTheEndIsUnsatisfiable) {
  ByteRange r;
  EXPECT_EQ(EvaluateRange(Body("0123"), Req({{"range", "bytes=10-20"}}), &r), RangeOutcome::kUnsatisfiable);
  EXPECT_EQ(EvaluateRange(Body("0123"), Req({{"range", "bytes=-0"}}), &r), RangeOutcome::kUnsatisfiable);
}

TEST(Range, MultipleOrInvalidRangesGetTheWholeResponse) {
  ByteRange r;
  EXPECT_EQ(EvaluateRange(Body("0123"), Req({{"range", "bytes=0-1,2-3"}}), &r), RangeOutcome::kFull);
  EXPECT_EQ(EvaluateRange(Body("0123"), Req({{"range", "bytes=3-1"}}), &r), RangeOutcome::kFull);
  EXPECT_EQ(EvaluateRange(Body("0123"), Req({{"range", "items=0-1"}}), &r), RangeOutcome::kFull);
}

TEST(Range, IfRangeNeedsAStrongMatch) {
  ByteRange r;
  auto strong = Body("0123", {{"etag", "\"v1\""}});
  EXPECT_EQ(EvaluateRange(strong, Req({{"range", "bytes=0-1"}, {"if-range", "\"v1\""}}), &r),
            RangeOutcome::kPartial);
  EXPECT_EQ(EvaluateRange(strong, Req({{"range", "bytes=0-1"}, {"if-range", "\"v2\""}}), &r),
            RangeOutcome::kFull);
  auto weak = Body("0123", {{"etag", "W/\"v1\""}});
  EXPECT_EQ(EvaluateRange(weak, Req({{"range", "bytes=0-1"}, {"if-range", "W/\"v1\""}}), &r),
            RangeOutcome::kFull);
}

}  // namespace
}  // namespace keel::cache
