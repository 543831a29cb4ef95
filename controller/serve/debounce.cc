// Debounce timing rule and the thread that applies it.
#include "controller/serve/debounce.h"

#include <algorithm>
#include <utility>

namespace keel::serve {

void DebounceWindow::Trigger(TimePoint now) {
  if (!first_) first_ = now;
  last_ = now;
}

std::optional<DebounceWindow::TimePoint> DebounceWindow::Deadline() const {
  if (!first_) return std::nullopt;
  return std::min(last_ + options_.holdoff, *first_ + options_.max_delay);
}

bool DebounceWindow::TakeIfDue(TimePoint now) {
  auto deadline = Deadline();
  if (!deadline || now < *deadline) return false;
  first_.reset();
  return true;
}

Debouncer::Debouncer(DebounceOptions options, std::function<void()> callback)
    : callback_(std::move(callback)), window_(options), thread_([this] { Run(); }) {}

Debouncer::~Debouncer() { Stop(); }

void Debouncer::Trigger() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    window_.Trigger(std::chrono::steady_clock::now());
  }
  cv_.notify_one();
}

void Debouncer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Debouncer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    auto deadline = window_.Deadline();
    if (!deadline) {
      cv_.wait(lock);
      continue;
    }
    // Woken early by further triggers: recompute, the holdoff has moved.
    cv_.wait_until(lock, *deadline);
    if (stopping_ || !window_.TakeIfDue(std::chrono::steady_clock::now())) continue;
    lock.unlock();
    callback_();
    lock.lock();
  }
}

}  // namespace keel::serve
