// AccessLog: where finished requests' lines go. Each worker thread appends whole
// lines to its own lock-free single-producer ring; one writer thread drains the
// rings to the output fd (stdout) every few milliseconds.
//
// Why a writer thread and not a non-blocking write from the worker: stdout is
// usually a pipe owned by the container runtime, and O_NONBLOCK on fd 1 would change
// the file description shared with other processes. The worker never blocks and
// never takes a lock: if stdout is slower than the traffic long enough to fill a
// ring (1 MiB per worker), lines are dropped and counted in
// keel_access_log_dropped_total instead of stalling the event loop.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

#include "dataplane/observe/log_format.h"

namespace keel::observe {

struct AccessLogOptions {
  LogFormat format = LogFormat::kJson;
  double sample = 1.0;  // share of requests logged, 0..1
  int fd = 1;
  size_t ring_bytes = 1 << 20;  // per thread, rounded up to a power of two
  uint32_t flush_interval_ms = 5;  // 1 MiB per 5 ms: ~200 MB/s of log lines per worker
};

class AccessLog {
 public:
  // The process-wide log the request records write to (off until Start).
  static AccessLog& Default();

  AccessLog();
  ~AccessLog();  // Stop()s
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void Start(const AccessLogOptions& options);
  // Writes out what the rings hold and joins the writer. Idempotent.
  void Stop();

  LogFormat format() const { return format_.load(std::memory_order_relaxed); }
  // Per-request sampling decision (thread-local generator, no lock).
  bool Sampled();
  // Appends one complete line from the calling thread; false if it was dropped.
  bool Append(std::string_view line);

  uint64_t dropped() const;
  uint64_t written_bytes() const { return written_.load(std::memory_order_relaxed); }

 private:
  struct Ring;
  struct Impl;
  Ring* ThisThreadRing();
  void WriterLoop();
  void Drain();

  std::atomic<LogFormat> format_{LogFormat::kOff};
  std::atomic<uint64_t> written_{0};
  uint64_t sample_threshold_ = UINT64_MAX;  // sampled if rand <= threshold
  std::unique_ptr<Impl> impl_;
};

}  // namespace keel::observe
