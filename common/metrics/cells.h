// Sharded counter cells: the storage under every keel metric. Each worker thread
// binds to its own shard, so a hot-path increment is a relaxed atomic add on a cache
// line no other core writes; a scrape sums a cell over all shards. Registration
// (rare, off the hot path) takes a mutex; increments never do.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

namespace keel::metrics::internal {

inline constexpr uint32_t kChunkCells = 1024;
inline constexpr uint32_t kMaxChunks = 1024;  // 1M cells in all
inline constexpr int kMaxShards = 256;        // shard 0 is shared by unbound threads

struct Chunk {
  std::atomic<uint64_t> cells[kChunkCells];
};

struct Shard {
  std::atomic<Chunk*> chunks[kMaxChunks];
};

class Cells {
 public:
  static Cells& Get();

  // `n` contiguous zeroed cells (n <= kChunkCells), present in every shard. Returns
  // kNoCell when the arena is full: writes to it are dropped, reads give 0.
  static constexpr uint32_t kNoCell = UINT32_MAX;
  uint32_t Allocate(uint32_t n);

  // Binds the calling thread to shard `shard` (1..kMaxShards-1; others share shard 0).
  void BindThread(int shard);

  void Add(uint32_t cell, uint64_t v) {
    if (cell == kNoCell) return;
    Shard* s = tl_shard_ ? tl_shard_ : shards_[0].load(std::memory_order_acquire);
    Chunk* c = s->chunks[cell / kChunkCells].load(std::memory_order_acquire);
    c->cells[cell % kChunkCells].fetch_add(v, std::memory_order_relaxed);
  }
  // Sum over all shards (wraps: signed gauges store two's complement).
  uint64_t Sum(uint32_t cell) const;
  uint32_t used() const;

 private:
  Cells();
  Shard* NewShardLocked();

  mutable std::mutex mu_;
  std::atomic<Shard*> shards_[kMaxShards] = {};
  uint32_t next_ = 0;    // next free cell
  uint32_t chunks_ = 0;  // chunks allocated in every shard
  static thread_local Shard* tl_shard_;
};

}  // namespace keel::metrics::internal
