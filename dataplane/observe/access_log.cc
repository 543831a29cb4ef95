// AccessLog rings and writer thread (see access_log.h for why this shape).
#include "dataplane/observe/access_log.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "common/metrics/metrics.h"

namespace keel::observe {

// Single producer (its worker thread), single consumer (the writer thread). head
// and tail only grow; their difference is the bytes in use. Only whole lines are
// committed, so the writer never writes half a line.
struct AccessLog::Ring {
  explicit Ring(size_t cap) : mask(cap - 1), data(new char[cap]) {}
  const size_t mask;
  std::unique_ptr<char[]> data;
  alignas(64) std::atomic<uint64_t> head{0};  // written by the producer
  alignas(64) std::atomic<uint64_t> tail{0};  // written by the consumer
};

struct AccessLog::Impl {
  AccessLogOptions options;
  std::mutex mu;  // rings list and writer lifecycle; never taken by Append after registration
  std::vector<std::unique_ptr<Ring>> rings;
  std::condition_variable cv;
  bool stopping = false;
  std::thread writer;
  metrics::Counter dropped = metrics::Registry::Default().AddCounter(
      "keel_access_log_dropped_total",
      "Access log lines dropped because the output was slower than the traffic");
  std::atomic<uint64_t> dropped_here{0};
  std::atomic<uint64_t> generation{0};  // bumps on Start so threads re-register their ring
};

namespace {
thread_local AccessLog* tl_owner = nullptr;
thread_local uint64_t tl_generation = 0;
thread_local void* tl_ring = nullptr;
thread_local uint64_t tl_rng = 0;

size_t RoundUpPow2(size_t n) {
  size_t p = 4096;
  while (p < n) p <<= 1;
  return p;
}
}  // namespace

AccessLog& AccessLog::Default() {
  static AccessLog* log = new AccessLog();  // workers may log during exit
  return *log;
}

AccessLog::AccessLog() : impl_(std::make_unique<Impl>()) {}

AccessLog::~AccessLog() { Stop(); }

void AccessLog::Start(const AccessLogOptions& options) {
  Stop();
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->options = options;
  impl_->stopping = false;
  impl_->rings.clear();
  impl_->generation++;
  double s = options.sample < 0 ? 0 : options.sample > 1 ? 1 : options.sample;
  sample_threshold_ = s >= 1 ? UINT64_MAX : static_cast<uint64_t>(s * 18446744073709551615.0);
  format_.store(options.format, std::memory_order_release);
  if (options.format != LogFormat::kOff) impl_->writer = std::thread([this] { WriterLoop(); });
}

void AccessLog::Stop() {
  std::thread writer;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    format_.store(LogFormat::kOff, std::memory_order_release);
    impl_->stopping = true;
    writer = std::move(impl_->writer);
  }
  impl_->cv.notify_all();
  if (writer.joinable()) writer.join();
  Drain();  // lines appended after the writer's last pass
}

bool AccessLog::Sampled() {
  if (sample_threshold_ == UINT64_MAX) return true;
  if (tl_rng == 0) tl_rng = reinterpret_cast<uintptr_t>(&tl_rng) | 1;
  // xorshift64: cheap, per thread, good enough to pick a share of requests.
  tl_rng ^= tl_rng << 13;
  tl_rng ^= tl_rng >> 7;
  tl_rng ^= tl_rng << 17;
  return tl_rng <= sample_threshold_;
}

AccessLog::Ring* AccessLog::ThisThreadRing() {
  if (tl_owner == this && tl_generation == impl_->generation.load(std::memory_order_acquire))
    return static_cast<Ring*>(tl_ring);
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->rings.push_back(std::make_unique<Ring>(RoundUpPow2(impl_->options.ring_bytes)));
  tl_owner = this;
  tl_generation = impl_->generation.load(std::memory_order_relaxed);
  tl_ring = impl_->rings.back().get();
  return impl_->rings.back().get();
}

bool AccessLog::Append(std::string_view line) {
  if (format() == LogFormat::kOff) return false;
  Ring* r = ThisThreadRing();
  const uint64_t cap = r->mask + 1;
  uint64_t head = r->head.load(std::memory_order_relaxed);
  uint64_t tail = r->tail.load(std::memory_order_acquire);
  if (line.size() > cap - (head - tail)) {
    impl_->dropped.Inc();
    impl_->dropped_here.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  size_t at = head & r->mask;
  size_t first = std::min<size_t>(line.size(), cap - at);
  std::memcpy(r->data.get() + at, line.data(), first);
  std::memcpy(r->data.get(), line.data() + first, line.size() - first);
  r->head.store(head + line.size(), std::memory_order_release);
  return true;
}

uint64_t AccessLog::dropped() const { return impl_->dropped_here.load(std::memory_order_relaxed); }

void AccessLog::Drain() {
  std::vector<Ring*> rings;
  int fd;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (auto& r : impl_->rings) rings.push_back(r.get());
    fd = impl_->options.fd;
  }
  for (Ring* r : rings) {
    uint64_t tail = r->tail.load(std::memory_order_relaxed);
    uint64_t head = r->head.load(std::memory_order_acquire);
    while (tail < head) {
      size_t at = tail & r->mask;
      size_t n = std::min<uint64_t>(head - tail, r->mask + 1 - at);
      ssize_t w = ::write(fd, r->data.get() + at, n);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EAGAIN) {
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, 100);
        continue;
      }
      if (w <= 0) {  // output gone (closed pipe): discard rather than spin
        tail = head;
        break;
      }
      tail += static_cast<uint64_t>(w);
      written_.fetch_add(static_cast<uint64_t>(w), std::memory_order_relaxed);
      r->tail.store(tail, std::memory_order_release);  // frees room as soon as it is out
    }
    r->tail.store(tail, std::memory_order_release);
  }
}

void AccessLog::WriterLoop() {
  // A closed stdout must fail the write (EPIPE), not kill the process.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  std::unique_lock<std::mutex> lock(impl_->mu);
  while (!impl_->stopping) {
    impl_->cv.wait_for(lock, std::chrono::milliseconds(impl_->options.flush_interval_ms));
    lock.unlock();
    Drain();
    lock.lock();
  }
}

}  // namespace keel::observe
