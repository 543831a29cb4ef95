// BlockCache: per-thread free lists of I/O buffer blocks in power-of-two sizes (4 KiB
// to 64 KiB). A keep-alive connection gives its buffers back between requests (so 10k
// idle connections hold no buffer memory) and the next request takes them back from
// here instead of from malloc. Each size class keeps at most kClassBudget bytes, so
// what a burst leaves behind is bounded per worker; larger blocks bypass the cache.
// No locks: a worker thread only ever touches its own lists.
#pragma once

#include <cstddef>
#include <cstdint>

namespace keel::net {

class BlockCache {
 public:
  static constexpr size_t kMinBlock = 4096;
  static constexpr size_t kMaxCachedBlock = 65536;
  static constexpr size_t kClassBudget = 1 << 20;  // bytes kept per size class per thread

  // A block of at least `n` bytes (uninitialised); its real size goes to `*cap`.
  static char* Take(size_t n, size_t* cap);
  // Gives back a block obtained from Take, with the size Take reported.
  static void Give(char* block, size_t cap);

  struct Stats {
    uint64_t allocated = 0;  // blocks that came from the heap
    uint64_t reused = 0;     // blocks served from the cache
    size_t cached_bytes = 0;
  };
  // This thread's counters (for tests and the benchmark notes).
  static Stats ThreadStats();
  // Frees this thread's cached blocks (tests; a worker never needs it).
  static void Trim();
};

}  // namespace keel::net
