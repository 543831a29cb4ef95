// Coalescing of change notifications between the stores and translation: bursts of
// Trigger() calls (a rollout touches hundreds of EndpointSlices) become one rebuild.
// Like Contour's handler (internal/contour/handler.go): a holdoff that restarts on
// every trigger, bounded by a maximum delay from the first trigger of the burst, so a
// steady trickle of changes can never starve the dataplanes.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace keel::serve {

struct DebounceOptions {
  // Quiet time after the last trigger before the callback runs.
  std::chrono::steady_clock::duration holdoff = std::chrono::milliseconds(2);
  // Upper bound between the first trigger of a burst and the callback.
  std::chrono::steady_clock::duration max_delay = std::chrono::milliseconds(10);
};

// The timing rule alone, on caller-supplied time points, so it can be tested with a
// fake clock. Not thread-safe; Debouncer guards it.
class DebounceWindow {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit DebounceWindow(DebounceOptions options) : options_(options) {}

  void Trigger(TimePoint now);
  // When the callback is due, or nullopt when no trigger is pending.
  std::optional<TimePoint> Deadline() const;
  // True (and the window resets) when a burst is pending and its deadline has passed.
  bool TakeIfDue(TimePoint now);

 private:
  DebounceOptions options_;
  std::optional<TimePoint> first_;
  TimePoint last_{};
};

// Runs `callback` on its own thread, at most once per burst as DebounceWindow says.
// Triggers that arrive while the callback runs start a new burst, so the last change
// is never lost; the callback never runs concurrently with itself.
class Debouncer {
 public:
  Debouncer(DebounceOptions options, std::function<void()> callback);
  ~Debouncer();  // Stop()s.
  Debouncer(const Debouncer&) = delete;
  Debouncer& operator=(const Debouncer&) = delete;

  // Thread-safe and cheap; meant to be called from store callbacks.
  void Trigger();
  // Drops any pending burst and joins the thread. Idempotent.
  void Stop();

 private:
  void Run();

  std::function<void()> callback_;
  std::mutex mu_;
  std::condition_variable cv_;
  DebounceWindow window_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace keel::serve
