// EventLoop: one per worker thread. epoll for readiness, a timer heap for deadlines,
// and an eventfd-backed queue so other threads (the config client) can post work —
// that queue is how a new snapshot reaches a worker without any lock on the request path.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace keel::event {

using Clock = uint64_t;  // monotonic milliseconds
Clock NowMs();

class EventLoop;

// Something registered for readiness on a file descriptor.
class Handler {
 public:
  virtual ~Handler() = default;
  // `events` is the epoll mask (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP).
  virtual void OnEvents(uint32_t events) = 0;
};

// A cancellable deadline owned by its user (a connection). Re-arming to a later
// deadline is O(1), to an earlier one O(log n); no allocation once the heap has grown
// to the working set.
class Timer {
 public:
  explicit Timer(std::function<void()> cb) : cb_(std::move(cb)) {}
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  bool armed() const { return heap_index_ >= 0; }

 private:
  friend class EventLoop;
  std::function<void()> cb_;
  EventLoop* loop_ = nullptr;
  Clock deadline_ = 0;
  // Where the timer sits in the heap: <= deadline_. Pushing a deadline later (every
  // request re-arms its connection's timeout) only updates deadline_; the timer moves
  // down when its key surfaces (FireTimers).
  Clock key_ = 0;
  int heap_index_ = -1;
};

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Register, change or remove interest. The handler must outlive its registration.
  bool Add(int fd, uint32_t events, Handler* h);
  bool Modify(int fd, uint32_t events, Handler* h);
  void Remove(int fd);

  void Arm(Timer* t, Clock delay_ms);
  void Disarm(Timer* t);

  // Thread-safe: runs `fn` on the loop's thread during its next turn.
  void Post(std::function<void()> fn);
  // Runs fn after the current batch of events (same thread); used to destroy objects
  // safely after their handler returns.
  void Defer(std::function<void()> fn);

  void Run();
  void Stop();  // thread-safe
  Clock now() const { return now_; }

 private:
  void FireTimers();
  void HeapUp(size_t i);
  void HeapDown(size_t i);
  void HeapRemove(size_t i);
  void RunPosted();
  void RunDeferred();

  int epfd_ = -1;
  int wakefd_ = -1;
  Clock now_ = 0;
  bool stopping_ = false;
  std::vector<Timer*> heap_;
  std::mutex post_mu_;
  std::vector<std::function<void()>> posted_;
  std::vector<std::function<void()>> deferred_;
  std::vector<std::function<void()>> running_;  // the batch RunDeferred is running
  class WakeHandler;
  WakeHandler* wake_ = nullptr;
};

}  // namespace keel::event
