// The cache's answer when a route has no endpoint at all (without_origin.h): fresh →
// HIT, stale within grace / stale-if-error / max-stale → STALE, otherwise nothing
// (the caller answers 503), and never past must-revalidate or s-maxage.
#include "dataplane/cache/without_origin.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <utility>

namespace keel::cache {
namespace {

constexpr int64_t T = 1700000000;  // when the response arrived

Fields H(std::initializer_list<std::pair<const char*, const char*>> hs) {
  Fields f;
  for (auto& [n, v] : hs) f.Add(n, v);
  return f;
}

Object Obj(const char* cache_control) {
  return MakeObject(200, H({{"cache-control", cache_control}, {"date", FormatHttpDate(T).c_str()}}), T, T, 0);
}

Request Get(std::initializer_list<std::pair<const char*, const char*>> hs = {}) {
  return Request{"GET", H(hs)};
}

std::string Answer(const Object& o, int64_t now, int64_t grace, const Request& req = Get()) {
  const char* x = AnswerWithoutOrigin(o, req, now, grace);
  return x ? x : "none";
}

TEST(WithoutOrigin, FreshIsAHit) { EXPECT_EQ(Answer(Obj("max-age=60"), T + 59, 0), "HIT"); }

TEST(WithoutOrigin, StaleWithinGraceThenNothing) {
  Object o = Obj("max-age=2");
  EXPECT_EQ(Answer(o, T + 3, 4), "STALE");
  EXPECT_EQ(Answer(o, T + 6, 4), "STALE");  // staleness 4 = grace: still within
  EXPECT_EQ(Answer(o, T + 7, 4), "none");
  EXPECT_EQ(Answer(o, T + 3, 0), "none");  // no grace, no stale-if-error
}

TEST(WithoutOrigin, StaleIfErrorWithoutGrace) {
  Object o = Obj("max-age=2, stale-if-error=10");
  EXPECT_EQ(Answer(o, T + 12, 0), "STALE");
  EXPECT_EQ(Answer(o, T + 13, 0), "none");
}

TEST(WithoutOrigin, StaleWhileRevalidateAndMaxStaleServeStale) {
  EXPECT_EQ(Answer(Obj("max-age=2, stale-while-revalidate=30"), T + 20, 0), "STALE");
  EXPECT_EQ(Answer(Obj("max-age=2"), T + 20, 0, Get({{"cache-control", "max-stale=60"}})), "STALE");
}

TEST(WithoutOrigin, MustRevalidateAndSMaxageForbidGrace) {
  EXPECT_EQ(Answer(Obj("max-age=2, must-revalidate"), T + 3, 600), "none");
  EXPECT_EQ(Answer(Obj("max-age=2, proxy-revalidate"), T + 3, 600), "none");
  EXPECT_EQ(Answer(Obj("s-maxage=2"), T + 3, 600), "none");
  EXPECT_EQ(Answer(Obj("s-maxage=60"), T + 3, 600), "HIT");  // still fresh: fine
}

TEST(WithoutOrigin, ClientNoCacheGetsTheObjectAsStale) {
  // The validation it asks for cannot be sent: like a refused connection, stale stands in.
  EXPECT_EQ(Answer(Obj("max-age=60"), T + 1, 0, Get({{"cache-control", "no-cache"}})), "STALE");
  EXPECT_EQ(Answer(Obj("max-age=60"), T + 1, 0, Get({{"pragma", "no-cache"}})), "STALE");
}

TEST(WithoutOrigin, LookupCountsHitStaleAndMiss) {
  Store store(1 << 20, 1 << 16);
  auto none = [](const std::vector<std::string>&) { return std::string(); };
  auto o = std::make_shared<Object>(Obj("max-age=2"));
  o->body = "stored";
  ASSERT_TRUE(store.Insert("http://a/x", o));

  auto hit = LookupWithoutOrigin(store, "http://a/x", none, Get(), T + 1, 5);
  ASSERT_TRUE(hit.object);
  EXPECT_STREQ(hit.xcache, "HIT");
  EXPECT_EQ(hit.object->body, "stored");
  auto stale = LookupWithoutOrigin(store, "http://a/x", none, Get(), T + 4, 5);
  ASSERT_TRUE(stale.object);
  EXPECT_STREQ(stale.xcache, "STALE");
  EXPECT_FALSE(LookupWithoutOrigin(store, "http://a/x", none, Get(), T + 8, 5).object);  // past grace
  EXPECT_FALSE(LookupWithoutOrigin(store, "http://a/other", none, Get(), T + 1, 5).object);
  EXPECT_EQ(store.stats().hits.load(), 1u);
  EXPECT_EQ(store.stats().stale.load(), 1u);
  EXPECT_EQ(store.stats().misses.load(), 2u);
}

TEST(WithoutOrigin, LookupHonoursVaryVariants) {
  Store store(1 << 20, 1 << 16);
  auto o = std::make_shared<Object>(Obj("max-age=60"));
  o->vary = {"accept-language"};
  o->secondary_key = "accept-language=en\n";
  ASSERT_TRUE(store.Insert("http://a/v", o));
  auto lang = [](std::string value) {
    return [value](const std::vector<std::string>& vary) {
      return vary.empty() ? std::string() : "accept-language=" + value + "\n";
    };
  };
  EXPECT_TRUE(LookupWithoutOrigin(store, "http://a/v", lang("en"), Get(), T + 1, 5).object);
  EXPECT_FALSE(LookupWithoutOrigin(store, "http://a/v", lang("fr"), Get(), T + 1, 5).object);
}

}  // namespace
}  // namespace keel::cache
