#include "dataplane/event/loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/log.h"

namespace keel::event {

Clock NowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<Clock>(ts.tv_sec) * 1000 + static_cast<Clock>(ts.tv_nsec) / 1000000;
}

Timer::~Timer() {
  if (loop_ && armed()) loop_->Disarm(this);
}

class EventLoop::WakeHandler : public Handler {
 public:
  explicit WakeHandler(EventLoop* loop) : loop_(loop) {}
  void OnEvents(uint32_t) override {
    uint64_t v;
    [[maybe_unused]] auto n = ::read(loop_->wakefd_, &v, sizeof v);
    loop_->RunPosted();
  }

 private:
  EventLoop* loop_;
};

EventLoop::EventLoop() {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  wakefd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epfd_ < 0 || wakefd_ < 0) {
    KEEL_LOG(Error, "event") << "epoll/eventfd: " << strerror(errno);
    std::abort();  // no loop, no dataplane: nothing sensible to continue with
  }
  wake_ = new WakeHandler(this);
  Add(wakefd_, EPOLLIN, wake_);
  now_ = NowMs();
}

EventLoop::~EventLoop() {
  RunDeferred();
  for (Timer* t : heap_) t->heap_index_ = -1;
  ::close(wakefd_);
  ::close(epfd_);
  delete wake_;
}

bool EventLoop::Add(int fd, uint32_t events, Handler* h) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = h;
  return epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool EventLoop::Modify(int fd, uint32_t events, Handler* h) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = h;
  return epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void EventLoop::Remove(int fd) { epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr); }

void EventLoop::Arm(Timer* t, Clock delay_ms) {
  t->loop_ = this;
  t->deadline_ = now_ + delay_ms;
  if (t->armed()) {
    if (t->deadline_ >= t->key_) return;  // later: FireTimers moves it when it surfaces
    t->key_ = t->deadline_;
    HeapUp(t->heap_index_);
    return;
  }
  t->key_ = t->deadline_;
  t->heap_index_ = static_cast<int>(heap_.size());
  heap_.push_back(t);
  HeapUp(heap_.size() - 1);
}

void EventLoop::Disarm(Timer* t) {
  if (t->armed()) HeapRemove(t->heap_index_);
}

void EventLoop::HeapUp(size_t i) {
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (heap_[parent]->key_ <= heap_[i]->key_) break;
    std::swap(heap_[parent], heap_[i]);
    heap_[parent]->heap_index_ = static_cast<int>(parent);
    heap_[i]->heap_index_ = static_cast<int>(i);
    i = parent;
  }
}

void EventLoop::HeapDown(size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < heap_.size() && heap_[l]->key_ < heap_[m]->key_) m = l;
    if (r < heap_.size() && heap_[r]->key_ < heap_[m]->key_) m = r;
    if (m == i) return;
    std::swap(heap_[m], heap_[i]);
    heap_[m]->heap_index_ = static_cast<int>(m);
    heap_[i]->heap_index_ = static_cast<int>(i);
    i = m;
  }
}

void EventLoop::HeapRemove(size_t i) {
  Timer* t = heap_[i];
  t->heap_index_ = -1;
  Timer* last = heap_.back();
  heap_.pop_back();
  if (last != t) {
    heap_[i] = last;
    last->heap_index_ = static_cast<int>(i);
    HeapUp(i);
    HeapDown(last->heap_index_);
  }
}

void EventLoop::FireTimers() {
  while (!heap_.empty() && heap_[0]->key_ <= now_) {
    Timer* t = heap_[0];
    if (t->key_ != t->deadline_) {  // re-armed later since it was placed
      t->key_ = t->deadline_;
      HeapDown(0);
      continue;
    }
    HeapRemove(0);
    t->cb_();  // may re-arm or destroy other timers; the heap is consistent here
  }
}

void EventLoop::Post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(post_mu_);
    posted_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wakefd_, &one, sizeof one);
}

void EventLoop::Defer(std::function<void()> fn) { deferred_.push_back(std::move(fn)); }

void EventLoop::RunDeferred() {
  // Two vectors take turns and keep their capacity: a request that defers a
  // destruction costs no allocation here (a swap into a fresh local vector did).
  while (!deferred_.empty()) {
    running_.swap(deferred_);
    for (auto& fn : running_) fn();  // may Defer more: those land in deferred_
    running_.clear();
  }
}

void EventLoop::RunPosted() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lock(post_mu_);
    batch.swap(posted_);
  }
  for (auto& fn : batch) fn();
}

void EventLoop::Stop() {
  Post([this] { stopping_ = true; });
}

void EventLoop::Run() {
  constexpr int kMaxEvents = 256;  // bounded work per turn keeps timers and posts timely
  epoll_event events[kMaxEvents];
  while (!stopping_) {
    int timeout = -1;
    if (!heap_.empty()) {
      Clock d = heap_[0]->key_;  // may wake early for a timer pushed later: it moves then
      now_ = NowMs();
      timeout = d <= now_ ? 0 : static_cast<int>(d - now_);
    }
    int n = epoll_wait(epfd_, events, kMaxEvents, timeout);
    now_ = NowMs();
    if (n < 0 && errno != EINTR) {
      KEEL_LOG(Error, "event") << "epoll_wait: " << strerror(errno);
      break;
    }
    for (int i = 0; i < n; ++i) static_cast<Handler*>(events[i].data.ptr)->OnEvents(events[i].events);
    FireTimers();
    RunDeferred();
  }
  RunPosted();
  // Deferred destructions queued during the last turn (or by the posts just run)
  // must not outlive the loop: run them now.
  RunDeferred();
  stopping_ = false;  // Run() may be called again (tests step the loop this way)
}

}  // namespace keel::event
