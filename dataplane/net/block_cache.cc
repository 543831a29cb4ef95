// Per-thread free lists behind net::Buffer (see block_cache.h for the why).
#include "dataplane/net/block_cache.h"

#include <bit>
#include <new>

namespace keel::net {
namespace {

constexpr int kClasses = 5;  // 4, 8, 16, 32, 64 KiB

// -1 for sizes the cache does not keep (above kMaxCachedBlock).
int ClassOf(size_t cap) {
  // (cap & (cap - 1)), not std::has_single_bit: without -mpopcnt that is a libgcc
  // call, measured at a third of the cost of Take.
  if (cap < BlockCache::kMinBlock || cap > BlockCache::kMaxCachedBlock || (cap & (cap - 1)) != 0) return -1;
  return std::countr_zero(cap) - std::countr_zero(BlockCache::kMinBlock);
}

// A freed block holds the link to the next one: no side allocation.
struct FreeBlock {
  FreeBlock* next;
};

struct Lists {
  FreeBlock* head[kClasses] = {};
  size_t count[kClasses] = {};
  BlockCache::Stats stats;

  ~Lists() {
    Trim();
    dead = true;
  }
  void Trim() {
    for (int c = 0; c < kClasses; ++c) {
      while (head[c]) {
        FreeBlock* b = head[c];
        head[c] = b->next;
        ::operator delete(static_cast<void*>(b));
      }
      count[c] = 0;
    }
    stats.cached_bytes = 0;
  }
  // Set once the thread's lists are destroyed: buffers freed later in thread (or
  // process) teardown go straight to the heap.
  static thread_local bool dead;
};
thread_local bool Lists::dead = false;

Lists* ThreadLists() {
  if (Lists::dead) return nullptr;
  static thread_local Lists lists;
  return &lists;
}

}  // namespace

char* BlockCache::Take(size_t n, size_t* cap) {
  size_t size = n <= kMinBlock ? kMinBlock : std::bit_ceil(n);
  *cap = size;
  int c = ClassOf(size);
  Lists* l = c >= 0 ? ThreadLists() : nullptr;
  if (l) {
    if (FreeBlock* b = l->head[c]) {
      l->head[c] = b->next;
      l->count[c]--;
      l->stats.cached_bytes -= size;
      l->stats.reused++;
      return reinterpret_cast<char*>(b);
    }
    l->stats.allocated++;
  }
  return static_cast<char*>(::operator new(size));
}

void BlockCache::Give(char* block, size_t cap) {
  int c = ClassOf(cap);
  Lists* l = c >= 0 ? ThreadLists() : nullptr;
  if (l) {
    if ((l->count[c] + 1) * cap <= kClassBudget) {
      auto* b = new (block) FreeBlock{l->head[c]};
      l->head[c] = b;
      l->count[c]++;
      l->stats.cached_bytes += cap;
      return;
    }
  }
  ::operator delete(static_cast<void*>(block));
}

BlockCache::Stats BlockCache::ThreadStats() {
  Lists* l = ThreadLists();
  return l ? l->stats : Stats{};
}

void BlockCache::Trim() {
  if (Lists* l = ThreadLists()) l->Trim();
}

}  // namespace keel::net
