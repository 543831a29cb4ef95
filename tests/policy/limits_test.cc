// Token buckets and in-flight counters: rates, bursts, refill, Retry-After, the
// division by the worker count, leases, and the bounded table.
#include "dataplane/policy/limits.h"

#include <gtest/gtest.h>

#include <string>

namespace keel::policy {
namespace {

TEST(RateLimiter, BurstThenRate) {
  RateLimiter r(1);
  // 10 rps, burst 4: five at once (the request itself plus the burst), then 429.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(r.Admit("k", 10, 4, 1000), 0u) << i;
  EXPECT_EQ(r.Admit("k", 10, 4, 1000), 1u);
  // 100 ms later one token is back, and only one.
  EXPECT_EQ(r.Admit("k", 10, 4, 1100), 0u);
  EXPECT_EQ(r.Admit("k", 10, 4, 1100), 1u);
  // Other keys have their own bucket.
  EXPECT_EQ(r.Admit("other", 10, 4, 1100), 0u);
  // A long pause refills to capacity, no more.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(r.Admit("k", 10, 4, 60000), 0u) << i;
  EXPECT_NE(r.Admit("k", 10, 4, 60000), 0u);
}

TEST(RateLimiter, RetryAfterIsTheWaitForOneToken) {
  RateLimiter r(1);
  EXPECT_EQ(r.Admit("k", 1, 0, 0), 0u);  // 1 rps, no burst: one per second
  EXPECT_EQ(r.Admit("k", 1, 0, 0), 1u);
  EXPECT_EQ(r.Admit("k", 1, 0, 999), 1u);
  EXPECT_EQ(r.Admit("k", 1, 0, 1000), 0u);
  RateLimiter slow(4);  // 1 rps over 4 workers: 0.25 rps here, 4 s per token
  EXPECT_EQ(slow.Admit("k", 1, 0, 0), 0u);
  EXPECT_EQ(slow.Admit("k", 1, 0, 0), 4u);
  EXPECT_EQ(r.Admit("zero", 0, 0, 0), 0u);  // 0 disables
  EXPECT_EQ(r.size(), 1u);
}

TEST(RateLimiter, DividedByWorkers) {
  // 100 rps, burst 19, 4 workers: capacity 20/4 = 5 here, refill 25 per second.
  RateLimiter r(4);
  int admitted = 0;
  for (int i = 0; i < 50; ++i) admitted += r.Admit("k", 100, 19, 0) == 0;
  EXPECT_EQ(admitted, 5);
  admitted = 0;
  for (uint64_t ms = 1; ms <= 1000; ++ms) admitted += r.Admit("k", 100, 19, ms) == 0;
  EXPECT_EQ(admitted, 25);
}

TEST(RateLimiter, TableIsBoundedAndSweepsRefilledBuckets) {
  RateLimiter r(1);
  for (size_t i = 0; i < kMaxEntries; ++i) ASSERT_EQ(r.Admit(std::to_string(i), 1, 0, 0), 0u);
  EXPECT_EQ(r.size(), kMaxEntries);
  // Every bucket is empty at t=0: the new key is admitted untracked, the table stays.
  EXPECT_EQ(r.Admit("new", 1, 0, 0), 0u);
  EXPECT_EQ(r.untracked(), 1u);
  EXPECT_EQ(r.size(), kMaxEntries);
  // Two seconds later all buckets are full again: swept, the new key is tracked.
  EXPECT_EQ(r.Admit("new", 1, 0, 2000), 0u);
  EXPECT_EQ(r.size(), 1u);
  EXPECT_EQ(r.Admit("new", 1, 0, 2000), 1u);
}

TEST(ConcurrencyLimiter, LeasesHoldSlots) {
  ConcurrencyLimiter c(1);
  Lease a, b, d;
  EXPECT_TRUE(c.Admit("k", 2, &a));
  EXPECT_TRUE(c.Admit("k", 2, &b));
  EXPECT_FALSE(c.Admit("k", 2, &d));
  EXPECT_FALSE(d.held());
  EXPECT_EQ(c.InFlight("k"), 2u);
  a.Release();
  EXPECT_EQ(c.InFlight("k"), 1u);
  EXPECT_TRUE(c.Admit("k", 2, &d));
  {
    Lease moved = std::move(d);
    EXPECT_FALSE(d.held());
    EXPECT_EQ(c.InFlight("k"), 2u);
  }
  EXPECT_EQ(c.InFlight("k"), 1u);
  b = Lease();  // assignment releases the old slot
  EXPECT_EQ(c.InFlight("k"), 0u);
  Lease none;
  EXPECT_TRUE(c.Admit("k", 0, &none));  // 0 disables
  EXPECT_FALSE(none.held());
}

TEST(ConcurrencyLimiter, DividedByWorkersRoundedUp) {
  ConcurrencyLimiter c(4);
  Lease l[3];
  EXPECT_TRUE(c.Admit("k", 5, &l[0]));  // ceil(5/4) = 2 here
  EXPECT_TRUE(c.Admit("k", 5, &l[1]));
  EXPECT_FALSE(c.Admit("k", 5, &l[2]));
  Lease one;
  EXPECT_TRUE(c.Admit("j", 1, &one));  // never below 1
}

TEST(ConcurrencyLimiter, TableIsBoundedAndSweepsIdleKeys) {
  ConcurrencyLimiter c(1);
  Lease held;
  ASSERT_TRUE(c.Admit("busy", 1, &held));
  for (size_t i = 1; i < kMaxEntries; ++i) {
    Lease l;
    ASSERT_TRUE(c.Admit(std::to_string(i), 1, &l));
  }
  EXPECT_EQ(c.size(), kMaxEntries);
  Lease l;
  EXPECT_TRUE(c.Admit("new", 1, &l));  // idle keys swept
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(c.InFlight("busy"), 1u);
  EXPECT_EQ(c.untracked(), 0u);
}

}  // namespace
}  // namespace keel::policy
