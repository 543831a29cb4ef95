// Canceller: a one-shot stop signal shared by a watch loop and the HTTP requests it
// has in flight. Cancel() wakes sleepers and runs registered callbacks (which abort
// in-flight requests), so Stop() takes effect within milliseconds, not at the next
// watch timeout.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace keel::k8s {

class Canceller {
 public:
  Canceller() = default;
  Canceller(const Canceller&) = delete;
  Canceller& operator=(const Canceller&) = delete;

  // Idempotent. Callbacks run on the calling thread, outside the lock.
  void Cancel();
  bool cancelled() const;

  // Runs `fn` on Cancel(), or right away if already cancelled (then returns 0).
  uint64_t OnCancel(std::function<void()> fn);
  void Unregister(uint64_t id);

  // Sleeps up to `d`; false when cancelled before or during the sleep.
  bool SleepFor(std::chrono::milliseconds d);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool cancelled_ = false;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::function<void()>> callbacks_;
};

// Registers a callback for the lifetime of a scope (one request).
class CancelScope {
 public:
  CancelScope(Canceller* c, std::function<void()> fn) : c_(c), id_(c ? c->OnCancel(std::move(fn)) : 0) {}
  ~CancelScope() {
    if (c_ && id_) c_->Unregister(id_);
  }
  CancelScope(const CancelScope&) = delete;
  CancelScope& operator=(const CancelScope&) = delete;

 private:
  Canceller* c_;
  uint64_t id_;
};

}  // namespace keel::k8s
