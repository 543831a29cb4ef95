// The event loop's timers (ordering, re-arm, cancel) and cross-thread posts.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "dataplane/event/loop.h"

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

// Re-arming to a later deadline leaves the timer where it is in the heap (O(1)); it
// must still fire at the new deadline, in deadline order with the others, and an
// earlier re-arm must take effect at once.
TEST(EventLoop, RearmedTimersFireAtTheirLatestDeadline) {
  EventLoop loop;
  std::vector<char> order;
  Clock start = 0, a_at = 0, b_at = 0, c_at = 0;
  Timer a([&] {
    order.push_back('a');
    a_at = loop.now();
  });
  Timer b([&] {
    order.push_back('b');
    b_at = loop.now();
  });
  Timer c([&] {
    order.push_back('c');
    c_at = loop.now();
  });
  Timer stop([&] { loop.Stop(); });
  start = loop.now();  // what Arm counts from
  loop.Arm(&a, 10);
  loop.Arm(&a, 60);  // later: stays at 10 in the heap, must fire at 60
  loop.Arm(&b, 30);
  loop.Arm(&c, 500);
  loop.Arm(&c, 5);  // earlier: must fire at 5
  for (int i = 0; i < 5; ++i) loop.Arm(&a, 60);
  loop.Arm(&stop, 120);
  loop.Run();
  EXPECT_EQ(order, (std::vector<char>{'c', 'b', 'a'}));
  EXPECT_GE(c_at - start, 5u);
  EXPECT_GE(b_at - start, 30u);
  EXPECT_GE(a_at - start, 60u);
}

TEST(EventLoop, TimerPushedLaterWhileRunningDoesNotFireEarly) {
  EventLoop loop;
  int fired = 0;
  Clock fired_at = 0, start = loop.now();
  Timer t([&] {
    ++fired;
    fired_at = loop.now();
  });
  int pushes = 0;
  Timer pusher([&] {
    loop.Arm(&t, 30);  // keeps pushing t 30 ms ahead, as a busy connection does
    if (++pushes < 5) loop.Arm(&pusher, 10);
  });
  Timer stop([&] { loop.Stop(); });
  loop.Arm(&t, 30);
  loop.Arm(&pusher, 10);
  loop.Arm(&stop, 150);
  loop.Run();
  EXPECT_EQ(fired, 1);
  EXPECT_GE(fired_at - start, 5u * 10u + 30u);  // the last push was at >= 50 ms
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
