// Reconnect backoff for the config stream: exponential from `initial` to `max`, with
// "equal jitter" (a uniform draw from the upper half of the step) so a fleet of
// dataplanes that lost the controller together does not reconnect in lockstep,
// while each still waits at least half the nominal step.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace keel::dataplane::config {

class Backoff {
 public:
  using Duration = std::chrono::milliseconds;

  Backoff(Duration initial, Duration max, uint64_t seed = std::random_device{}())
      : initial_(std::max(initial, Duration(1))),
        max_(std::max(max, initial_)),
        step_(initial_),
        rng_(seed) {}

  // The next wait; each call doubles the nominal step up to `max`.
  Duration Next() {
    Duration step = step_;
    step_ = std::min(max_, step_ * 2);
    std::uniform_int_distribution<int64_t> jitter(step.count() / 2, step.count());
    return Duration(jitter(rng_));
  }
  // After a stream was established: the next failure waits `initial` again.
  void Reset() { step_ = initial_; }

 private:
  Duration initial_, max_, step_;
  std::mt19937_64 rng_;
};

}  // namespace keel::dataplane::config
