// Store: the response cache's memory — one instance shared by every worker thread,
// bounded in bytes, with S3-FIFO eviction, Vary variants, fill coalescing and purge.
//
// Why shared and not per worker: with SO_REUSEPORT a client's requests land on any
// worker, so per-worker caches would divide the hit ratio and the useful capacity by
// the number of workers, and coalescing could only merge misses that met on the same
// worker (N workers → N origin requests for one hot key). Why sharded mutexes and not
// lock-free reads: a lookup holds its shard's lock for a hash probe and a shared_ptr
// copy (~100 ns), next to the two syscalls each request costs anyway; RCU-style reads
// would need epoch reclamation of evicted objects for no measurable gain at 16 shards.
// Objects are immutable and handed out as shared_ptr, so a reader keeps its object
// alive after eviction without the lock.
//
// Why S3-FIFO (Yang et al., SOSP'23) over LRU: a web cache sees many one-hit wonders
// (crawlers, long-tail URLs); a small probationary FIFO drops them before they can push
// out the popular objects in the main FIFO, and a hit costs a counter increment
// instead of an LRU list move under the lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/cache/object.h"

namespace keel::cache {

struct CacheStats {
  std::atomic<uint64_t> hits{0}, misses{0}, stale{0}, bypass{0};
  std::atomic<uint64_t> inserts{0}, evictions{0}, purged{0}, coalesced{0}, not_stored{0};
  std::atomic<uint64_t> bytes{0}, objects{0};
};

class Store {
 public:
  // `capacity_bytes` bounds everything the store accounts: bodies, fields, keys and a
  // fixed per-entry overhead. An object above `max_object_bytes` is never stored.
  Store(uint64_t capacity_bytes, uint64_t max_object_bytes);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  uint64_t capacity() const { return capacity_; }
  // The largest object that fits (the smaller of the limit and one shard).
  uint64_t max_object_bytes() const { return max_object_; }
  CacheStats& stats() { return stats_; }

  // Computes a request's secondary key from the field names a stored response's Vary
  // listed (empty when the primary key was never seen).
  using SecondaryFn = std::function<std::string(const std::vector<std::string>& vary)>;
  struct Found {
    std::shared_ptr<const Object> object;  // null on a miss
    std::string key;                       // full key: primary, NUL, secondary
  };
  Found Lookup(const std::string& primary, const SecondaryFn& secondary);

  // Stores `obj` under primary + obj->secondary_key; replaces the same variant. False
  // if it is too large. The Vary names it carries become the primary's.
  bool Insert(const std::string& primary, std::shared_ptr<const Object> obj);

  // Removes every variant of one primary key (an unsafe method, RFC 9111 §4.4; purge).
  size_t Invalidate(const std::string& primary);
  // Purges every key whose primary key starts with `prefix`.
  size_t PurgePrefix(const std::string& prefix);
  // Purges every key of `host` (any scheme).
  size_t PurgeHost(const std::string& host);

  // Request coalescing. The first caller for `key` leads (true) and must call EndFill;
  // later callers get false and their `wake` runs once the leader ends. `wake` is
  // called outside any lock and must be cheap (post to the waiter's own loop).
  bool JoinFill(const std::string& key, std::function<void()> wake);
  void EndFill(const std::string& key);

  uint64_t bytes() const { return stats_.bytes.load(std::memory_order_relaxed); }

 private:
  struct Shard;
  Shard& ShardFor(const std::string& primary);
  size_t PurgeIf(const std::function<bool(const std::string& primary)>& pred);

  uint64_t capacity_, max_object_;
  std::vector<std::unique_ptr<Shard>> shards_;
  CacheStats stats_;
};

// The primary key part of a full key.
std::string_view PrimaryOf(std::string_view full_key);

}  // namespace keel::cache
