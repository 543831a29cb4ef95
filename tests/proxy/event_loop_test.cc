// The event loop's timers (ordering, re-arm, cancel) and cross-thread posts.
#include "dataplane/event/loop.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace keel::event {
namespace {

TEST(EventLoop, TimersFireInDeadlineOrderAndCancelWorks) {
  EventLoop loop;
  std::vector<int> fired;
  Timer a([&] { fired.push_back(1); });
  Timer b([&] { fired.push_back(2); });
  Timer c([&] { fired.push_back(3); });
  Timer stop([&] { loop.Stop(); });
  loop.Arm(&b, 20);
  loop.Arm(&a, 5);
  loop.Arm(&c, 10);
  loop.Disarm(&c);
  loop.Arm(&b, 30);  // re-arm moves it later
  loop.Arm(&stop, 60);
  loop.Run();
  EXPECT_EQ(fired, (std::vector<int>{1, 2}));
  EXPECT_FALSE(c.armed());
}

TEST(EventLoop, PostRunsOnLoopThread) {
  EventLoop loop;
  std::thread::id ran_on;
  std::thread t([&] { loop.Run(); });
  const std::thread::id loop_thread = t.get_id();
  loop.Post([&] { ran_on = std::this_thread::get_id(); });
  loop.Stop();
  t.join();
  EXPECT_EQ(ran_on, loop_thread);
}

TEST(EventLoop, ManyTimersStayConsistent) {
  EventLoop loop;
  std::vector<std::unique_ptr<Timer>> timers;
  int count = 0;
  uint64_t last = 0;
  bool ordered = true;
  for (int i = 0; i < 500; ++i) {
    timers.push_back(std::make_unique<Timer>([&] {
      ordered = ordered && loop.now() >= last;
      last = loop.now();
      ++count;
    }));
    loop.Arm(timers.back().get(), static_cast<Clock>((i * 7919) % 40));
  }
  for (int i = 0; i < 500; i += 3) loop.Disarm(timers[i].get());
  Timer stop([&] { loop.Stop(); });
  loop.Arm(&stop, 80);
  loop.Run();
  EXPECT_EQ(count, 500 - 167);
  EXPECT_TRUE(ordered);
}

// Defer runs after the current batch, in order, including what a deferred function
// defers itself (the HTTP/1 head flush relies on running before a later deletion).
TEST(EventLoop, DeferredRunInOrderWithinTheTurn) {
  EventLoop loop;
  std::vector<int> ran;
  Timer t([&] {
    loop.Defer([&] {
      ran.push_back(1);
      loop.Defer([&] { ran.push_back(3); });
    });
    loop.Defer([&] { ran.push_back(2); });
    loop.Stop();
  });
  for (int round = 0; round < 3; ++round) {  // the vectors are reused turn after turn
    ran.clear();
    loop.Arm(&t, 1);
    loop.Run();
    EXPECT_EQ(ran, (std::vector<int>{1, 2, 3}));
  }
}

TEST(EventLoop, DestructorRunsWhatIsStillDeferred) {
  int ran = 0;
  {
    EventLoop loop;
    loop.Defer([&] {
      ++ran;
      loop.Defer([&] { ++ran; });
    });
  }
  EXPECT_EQ(ran, 2);
}

}  // namespace
}  // namespace keel::event
