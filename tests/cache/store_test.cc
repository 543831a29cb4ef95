// Store: byte bound under churn, S3-FIFO keeping hot keys through a scan, Vary
// variants, purge, and fill coalescing.
#include "dataplane/cache/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

namespace keel::cache {
namespace {

std::shared_ptr<const Object> Make(size_t body, std::string secondary = "",
                                   std::vector<std::string> vary = {}) {
  auto o = std::make_shared<Object>();
  o->body.assign(body, 'x');
  o->secondary_key = std::move(secondary);
  o->vary = std::move(vary);
  return o;
}

Store::SecondaryFn NoVary() {
  return [](const std::vector<std::string>&) { return std::string(); };
}

TEST(Store, MissThenHit) {
  Store s(1 << 20, 1 << 16);
  EXPECT_FALSE(s.Lookup("http://a/x", NoVary()).object);
  ASSERT_TRUE(s.Insert("http://a/x", Make(100)));
  auto f = s.Lookup("http://a/x", NoVary());
  ASSERT_TRUE(f.object);
  EXPECT_EQ(f.object->body.size(), 100u);
  EXPECT_EQ(s.stats().objects.load(), 1u);
}

TEST(Store, ObjectsAboveTheLimitAreRefused) {
  Store s(1 << 20, 1000);
  EXPECT_FALSE(s.Insert("http://a/big", Make(1001)));
  EXPECT_FALSE(s.Lookup("http://a/big", NoVary()).object);
  EXPECT_EQ(s.stats().not_stored.load(), 1u);
}

TEST(Store, VaryVariantsAreKeptApart) {
  Store s(1 << 20, 1 << 16);
  std::vector<std::string> vary{"accept-language"};
  s.Insert("http://a/", Make(10, "accept-language=en\n", vary));
  s.Insert("http://a/", Make(20, "accept-language=fr\n", vary));
  auto lang = [](const char* l) {
    return
        [l](const std::vector<std::string>& v) { return v.empty() ? std::string() : v[0] + "=" + l + "\n"; };
  };
  EXPECT_EQ(s.Lookup("http://a/", lang("en")).object->body.size(), 10u);
  EXPECT_EQ(s.Lookup("http://a/", lang("fr")).object->body.size(), 20u);
  EXPECT_FALSE(s.Lookup("http://a/", lang("de")).object);
  EXPECT_EQ(s.Invalidate("http://a/"), 2u);  // §4.4: every variant of the URI
  EXPECT_FALSE(s.Lookup("http://a/", lang("en")).object);
}

TEST(Store, PurgeByHostAndPrefix) {
  Store s(1 << 20, 1 << 16);
  for (const char* k : {"http://a.example/x", "https://a.example/y", "http://a.example.org/x",
                        "http://b/img/1", "http://b/img/2", "http://b/css/1"}) {
    s.Insert(k, Make(10));
  }
  EXPECT_EQ(s.PurgeHost("a.example"), 2u);
  EXPECT_TRUE(s.Lookup("http://a.example.org/x", NoVary()).object);
  EXPECT_EQ(s.PurgePrefix("http://b/img/"), 2u);
  EXPECT_TRUE(s.Lookup("http://b/css/1", NoVary()).object);
  EXPECT_EQ(s.stats().purged.load(), 4u);
}

TEST(Store, ReplacingAVariantDoesNotLeakBytes) {
  Store s(1 << 20, 1 << 16);
  s.Insert("http://a/", Make(1000));
  uint64_t once = s.bytes();
  for (int i = 0; i < 10; ++i) s.Insert("http://a/", Make(1000));
  EXPECT_EQ(s.bytes(), once);
  EXPECT_EQ(s.stats().objects.load(), 1u);
}

TEST(Store, BytesStayWithinCapacityUnderChurn) {
  const uint64_t cap = 1 << 20;
  Store s(cap, 64 << 10);
  std::mt19937 rng(7);
  uint64_t inserted = 0;
  for (int i = 0; i < 20000; ++i) {
    size_t size = 100 + rng() % 20000;
    s.Insert("http://churn/" + std::to_string(i), Make(size));
    inserted += size;
    ASSERT_LE(s.bytes(), cap) << "after " << i;
  }
  EXPECT_GT(inserted, 100 * cap);
  EXPECT_GT(s.stats().evictions.load(), 10000u);
  EXPECT_GT(s.bytes(), cap / 2);  // and the space is actually used
}

TEST(Store, ConcurrentChurnStaysWithinCapacity) {
  const uint64_t cap = 4 << 20;
  Store s(cap, 32 << 10);
  std::atomic<bool> over{false};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < 3000; ++i) {
        std::string k = "http://c/" + std::to_string(t) + "/" + std::to_string(i);
        s.Insert(k, Make(1000 + (i % 7) * 3000));
        s.Lookup("http://c/" + std::to_string(t) + "/" + std::to_string(i / 2), NoVary());
        if (s.bytes() > cap) over = true;
      }
    });
  }
  for (auto& th : ts) th.join();
  EXPECT_FALSE(over.load());
}

TEST(Store, HotKeysSurviveAScanOfOneHitWonders) {
  // S3-FIFO: objects hit while on probation move to the main queue; a scan of new keys
  // only cycles the small queue. An LRU of the same size would have lost them all.
  Store s(200 * 1000, 10000);
  for (int i = 0; i < 20; ++i) s.Insert("http://hot/" + std::to_string(i), Make(1000));
  for (int r = 0; r < 3; ++r) {
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(s.Lookup("http://hot/" + std::to_string(i), NoVary()).object);
  }
  for (int i = 0; i < 2000; ++i) {
    s.Insert("http://scan/" + std::to_string(i), Make(1000));
    for (int h = 0; h < 20; h += 7) s.Lookup("http://hot/" + std::to_string(h), NoVary());
  }
  int alive = 0;
  for (int i = 0; i < 20; ++i)
    alive += s.Lookup("http://hot/" + std::to_string(i), NoVary()).object != nullptr;
  EXPECT_GE(alive, 15);
}

TEST(Store, CoalescingWakesEveryWaiterOnce) {
  Store s(1 << 20, 1 << 16);
  int woken = 0;
  EXPECT_TRUE(s.JoinFill("k", [&] { woken += 100; }));  // leader: its callback is never used
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(s.JoinFill("k", [&] { woken++; }));
  EXPECT_TRUE(s.JoinFill("other", [] {}));
  EXPECT_EQ(woken, 0);
  s.EndFill("k");
  EXPECT_EQ(woken, 5);
  s.EndFill("k");  // idempotent
  EXPECT_EQ(woken, 5);
  EXPECT_TRUE(s.JoinFill("k", [] {}));  // a new fill can start
  EXPECT_EQ(s.stats().coalesced.load(), 5u);
}

}  // namespace
}  // namespace keel::cache
