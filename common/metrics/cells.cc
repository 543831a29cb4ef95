// Sharded counter cells (see cells.h). Shards and chunks are never freed: metric
// handles are plain cell indices that stay valid for the life of the process.
#include "common/metrics/cells.h"

namespace keel::metrics::internal {

thread_local Shard* Cells::tl_shard_ = nullptr;

Cells& Cells::Get() {
  static Cells* cells = new Cells();  // never destroyed: threads may count during exit
  return *cells;
}

Cells::Cells() {
  std::lock_guard<std::mutex> lock(mu_);
  shards_[0].store(NewShardLocked(), std::memory_order_release);
}

Shard* Cells::NewShardLocked() {
  auto* s = new Shard();
  for (uint32_t i = 0; i < kMaxChunks; ++i) s->chunks[i].store(nullptr, std::memory_order_relaxed);
  for (uint32_t i = 0; i < chunks_; ++i) s->chunks[i].store(new Chunk(), std::memory_order_release);
  return s;
}

uint32_t Cells::Allocate(uint32_t n) {
  if (n == 0 || n > kChunkCells) return kNoCell;
  std::lock_guard<std::mutex> lock(mu_);
  // A block never straddles two chunks, so Add needs one chunk lookup.
  if (next_ % kChunkCells + n > kChunkCells) next_ = (next_ / kChunkCells + 1) * kChunkCells;
  uint32_t first = next_;
  uint32_t last_chunk = (first + n - 1) / kChunkCells;
  if (last_chunk >= kMaxChunks) return kNoCell;
  while (chunks_ <= last_chunk) {
    for (int i = 0; i < kMaxShards; ++i) {
      Shard* s = shards_[i].load(std::memory_order_relaxed);
      if (s) s->chunks[chunks_].store(new Chunk(), std::memory_order_release);
    }
    ++chunks_;
  }
  next_ = first + n;
  return first;
}

void Cells::BindThread(int shard) {
  if (shard <= 0 || shard >= kMaxShards) {
    tl_shard_ = nullptr;
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  Shard* s = shards_[shard].load(std::memory_order_relaxed);
  if (!s) {
    s = NewShardLocked();
    shards_[shard].store(s, std::memory_order_release);
  }
  tl_shard_ = s;
}

uint64_t Cells::Sum(uint32_t cell) const {
  if (cell == kNoCell) return 0;
  uint64_t sum = 0;
  for (int i = 0; i < kMaxShards; ++i) {
    Shard* s = shards_[i].load(std::memory_order_acquire);
    if (!s) continue;
    Chunk* c = s->chunks[cell / kChunkCells].load(std::memory_order_acquire);
    if (c) sum += c->cells[cell % kChunkCells].load(std::memory_order_relaxed);
  }
  return sum;
}

uint32_t Cells::used() const {
  std::lock_guard<std::mutex> lock(mu_);
  return next_;
}

}  // namespace keel::metrics::internal
