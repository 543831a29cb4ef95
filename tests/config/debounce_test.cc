// Debounce: the timing rule on a fake clock (exact), and the threaded Debouncer on
// real time with margins wide enough for a loaded 2-core machine.
#include "controller/serve/debounce.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "tests/config/fixtures.h"

namespace keel::serve {
namespace {

using std::chrono::milliseconds;
using TimePoint = DebounceWindow::TimePoint;

TEST(DebounceWindow, IdleHasNoDeadline) {
  DebounceWindow w({});
  EXPECT_FALSE(w.Deadline().has_value());
  EXPECT_FALSE(w.TakeIfDue(TimePoint() + milliseconds(1000)));
}

TEST(DebounceWindow, SingleTriggerFiresAfterHoldoff) {
  DebounceWindow w({milliseconds(2), milliseconds(10)});
  TimePoint t0 = TimePoint() + milliseconds(100);
  w.Trigger(t0);
  EXPECT_EQ(*w.Deadline(), t0 + milliseconds(2));
  EXPECT_FALSE(w.TakeIfDue(t0 + milliseconds(1)));
  EXPECT_TRUE(w.TakeIfDue(t0 + milliseconds(2)));
  EXPECT_FALSE(w.Deadline().has_value());
  EXPECT_FALSE(w.TakeIfDue(t0 + milliseconds(50)));
}

TEST(DebounceWindow, EachTriggerRestartsHoldoff) {
  DebounceWindow w({milliseconds(2), milliseconds(10)});
  TimePoint t0 = TimePoint() + milliseconds(100);
  w.Trigger(t0);
  w.Trigger(t0 + milliseconds(1));
  w.Trigger(t0 + milliseconds(3));
  EXPECT_EQ(*w.Deadline(), t0 + milliseconds(5));
  EXPECT_FALSE(w.TakeIfDue(t0 + milliseconds(4)));
  EXPECT_TRUE(w.TakeIfDue(t0 + milliseconds(5)));
}

TEST(DebounceWindow, SteadyTrickleIsCappedByMaxDelay) {
  DebounceWindow w({milliseconds(2), milliseconds(10)});
  TimePoint t0 = TimePoint() + milliseconds(100);
  int fired = 0;
  std::vector<int> fire_times;
  // A trigger every millisecond for 35 ms never leaves a 2 ms gap.
  for (int ms = 0; ms <= 35; ++ms) {
    TimePoint now = t0 + milliseconds(ms);
    if (w.TakeIfDue(now)) {
      ++fired;
      fire_times.push_back(ms);
    }
    w.Trigger(now);
  }
  // Bursts start at 0, 10, 20, 30: each fires exactly max_delay after its start.
  EXPECT_EQ(fire_times, (std::vector<int>{10, 20, 30}));
  EXPECT_EQ(fired, 3);
  EXPECT_EQ(*w.Deadline(), t0 + milliseconds(37));  // the last burst: holdoff after its last trigger
}

TEST(Debouncer, SingleTriggerRunsOnceNotBeforeHoldoff) {
  std::atomic<int> calls{0};
  std::atomic<int64_t> first_call_ns{0};
  auto start = std::chrono::steady_clock::now();
  Debouncer d({milliseconds(20), milliseconds(100)}, [&] {
    if (calls.fetch_add(1) == 0) first_call_ns = (std::chrono::steady_clock::now() - start).count();
  });
  d.Trigger();
  ASSERT_TRUE(testing::WaitFor([&] { return calls.load() == 1; }));
  EXPECT_GE(first_call_ns.load(), std::chrono::nanoseconds(milliseconds(20)).count());
  std::this_thread::sleep_for(milliseconds(60));
  EXPECT_EQ(calls.load(), 1);
}

TEST(Debouncer, BurstCoalesces) {
  std::atomic<int> calls{0};
  // Holdoff far above any scheduling hiccup, max delay out of reach.
  Debouncer d({milliseconds(150), milliseconds(5000)}, [&] { calls.fetch_add(1); });
  for (int i = 0; i < 200; ++i) d.Trigger();
  ASSERT_TRUE(testing::WaitFor([&] { return calls.load() >= 1; }));
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(calls.load(), 1);
}

TEST(Debouncer, TrickleStillRunsWithinMaxDelay) {
  using Clock = std::chrono::steady_clock;
  std::mutex mu;
  std::vector<Clock::time_point> runs;
  Debouncer d({milliseconds(50), milliseconds(100)}, [&] {
    std::lock_guard<std::mutex> lock(mu);
    runs.push_back(Clock::now());
  });
  // Triggers every ~5 ms for 400 ms: the holdoff alone would never expire.
  auto end = Clock::now() + milliseconds(400);
  Clock::time_point last_trigger;
  while ((last_trigger = Clock::now()) < end) {
    d.Trigger();
    std::this_thread::sleep_for(milliseconds(5));
  }
  last_trigger = Clock::now();  // before the call: the run that takes it starts later
  d.Trigger();
  // The last trigger is never lost: some run starts after it.
  ASSERT_TRUE(testing::WaitFor([&] {
    std::lock_guard<std::mutex> lock(mu);
    return !runs.empty() && runs.back() >= last_trigger;
  }));
  std::lock_guard<std::mutex> lock(mu);
  long during = std::count_if(runs.begin(), runs.end(), [&](auto t) { return t < last_trigger; });
  EXPECT_GE(during, 2);   // ≈ 400 / 100 on an idle machine
  EXPECT_LE(during, 12);  // generous: a stalled thread makes gaps, hence extra runs
}

TEST(Debouncer, TriggerDuringCallbackIsNotLost) {
  std::mutex mu;
  std::condition_variable cv;
  bool in_first = false, release_first = false;
  std::atomic<int> calls{0};
  Debouncer d({milliseconds(1), milliseconds(5)}, [&] {
    if (calls.fetch_add(1) == 0) {
      std::unique_lock<std::mutex> lock(mu);
      in_first = true;
      cv.notify_all();
      cv.wait(lock, [&] { return release_first; });
    }
  });
  d.Trigger();
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return in_first; }));
  }
  d.Trigger();  // arrives while the first run is still busy
  {
    std::lock_guard<std::mutex> lock(mu);
    release_first = true;
  }
  cv.notify_all();
  ASSERT_TRUE(testing::WaitFor([&] { return calls.load() == 2; }));
}

TEST(Debouncer, StopDropsPendingBurst) {
  std::atomic<int> calls{0};
  auto d = std::make_unique<Debouncer>(DebounceOptions{milliseconds(5000), milliseconds(5000)},
                                       [&] { calls.fetch_add(1); });
  d->Trigger();
  auto start = std::chrono::steady_clock::now();
  d->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  d.reset();
  EXPECT_EQ(calls.load(), 0);
}

}  // namespace
}  // namespace keel::serve
