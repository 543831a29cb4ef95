#include "dataplane/cache/store.h"

#include <algorithm>
#include <deque>
#include <list>
#include <mutex>
#include <unordered_map>

namespace keel::cache {
namespace {
// Map node, queue link, shared_ptr control block: what an entry costs beyond its object.
constexpr uint64_t kEntryOverhead = 160;
constexpr size_t kMaxShards = 16;
}  // namespace

std::string_view PrimaryOf(std::string_view full_key) { return full_key.substr(0, full_key.find('\0')); }

struct Store::Shard {
  enum class Queue { kSmall, kMain };
  struct Entry {
    std::shared_ptr<const Object> obj;
    uint64_t charge = 0;
    uint8_t freq = 0;  // hits since it entered its queue, saturating at 3
    Queue queue = Queue::kSmall;
    std::list<const std::string*>::iterator pos;
  };
  struct Primary {
    std::vector<std::string> vary;
    uint32_t variants = 0;
  };

  std::mutex mu;
  uint64_t capacity = 0, used = 0, small_used = 0;
  std::unordered_map<std::string, Entry> entries;
  std::unordered_map<std::string, Primary> primaries;
  std::list<const std::string*> small, main;
  // Ghost FIFO of keys evicted from `small` without a hit: a key that comes back soon
  // after was not a one-hit wonder and goes straight to `main`.
  std::deque<size_t> ghost;
  std::unordered_map<size_t, uint32_t> ghost_count;
  std::unordered_map<std::string, std::vector<std::function<void()>>> pending;

  size_t GhostLimit() const { return std::max<size_t>(256, entries.size()); }

  void AddGhost(size_t h) {
    ghost.push_back(h);
    ghost_count[h]++;
    while (ghost.size() > GhostLimit()) {
      auto it = ghost_count.find(ghost.front());
      if (it != ghost_count.end() && --it->second == 0) ghost_count.erase(it);
      ghost.pop_front();
    }
  }

  // Removes an entry; the caller accounts stats.
  void Remove(std::unordered_map<std::string, Entry>::iterator it, CacheStats* stats) {
    Entry& e = it->second;
    (e.queue == Queue::kSmall ? small : main).erase(e.pos);
    if (e.queue == Queue::kSmall) small_used -= e.charge;
    used -= e.charge;
    stats->bytes.fetch_sub(e.charge, std::memory_order_relaxed);
    stats->objects.fetch_sub(1, std::memory_order_relaxed);
    auto p = primaries.find(std::string(PrimaryOf(it->first)));
    if (p != primaries.end() && --p->second.variants == 0) primaries.erase(p);
    entries.erase(it);
  }

  void EvictOne(CacheStats* stats) {
    bool from_small = !small.empty() && (small_used > capacity / 10 || main.empty());
    if (from_small) {
      const std::string* key = small.front();
      auto it = entries.find(*key);
      Entry& e = it->second;
      if (e.freq > 0) {  // seen again while on probation: promote
        small.pop_front();
        small_used -= e.charge;
        e.freq = 0;
        e.queue = Queue::kMain;
        e.pos = main.insert(main.end(), key);
        return;
      }
      AddGhost(std::hash<std::string>()(*key));
      Remove(it, stats);
      stats->evictions.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const std::string* key = main.front();
    auto it = entries.find(*key);
    Entry& e = it->second;
    if (e.freq > 0) {  // second chance, as in CLOCK
      e.freq--;
      main.splice(main.end(), main, e.pos);
      return;
    }
    Remove(it, stats);
    stats->evictions.fetch_add(1, std::memory_order_relaxed);
  }
};

Store::Store(uint64_t capacity_bytes, uint64_t max_object_bytes) : capacity_(capacity_bytes) {
  uint64_t per = std::max<uint64_t>(max_object_bytes, 1) * 8;
  size_t n = static_cast<size_t>(std::clamp<uint64_t>(capacity_bytes / per, 1, kMaxShards));
  for (size_t i = 0; i < n; ++i) {
    shards_.push_back(std::make_unique<Shard>());
    shards_.back()->capacity = capacity_bytes / n;
  }
  max_object_ = std::min<uint64_t>(max_object_bytes, capacity_bytes / n);
}

Store::~Store() = default;

Store::Shard& Store::ShardFor(const std::string& primary) {
  return *shards_[std::hash<std::string>()(primary) % shards_.size()];
}

Store::Found Store::Lookup(const std::string& primary, const SecondaryFn& secondary) {
  Shard& s = ShardFor(primary);
  Found f;
  std::vector<std::string> vary;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    auto p = s.primaries.find(primary);
    if (p != s.primaries.end()) vary = p->second.vary;
  }
  f.key = primary;
  f.key.push_back('\0');
  f.key += secondary(vary);
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.entries.find(f.key);
  if (it == s.entries.end()) return f;
  if (it->second.freq < 3) it->second.freq++;
  f.object = it->second.obj;
  return f;
}

bool Store::Insert(const std::string& primary, std::shared_ptr<const Object> obj) {
  std::string key = primary;
  key.push_back('\0');
  key += obj->secondary_key;
  uint64_t charge = obj->ByteSize() + 2 * key.size() + kEntryOverhead;
  if (obj->body.size() > max_object_ || charge > capacity_ / shards_.size()) {
    stats_.not_stored.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  Shard& s = ShardFor(primary);
  std::lock_guard<std::mutex> lock(s.mu);
  if (auto it = s.entries.find(key); it != s.entries.end()) s.Remove(it, &stats_);
  while (s.used + charge > s.capacity && !s.entries.empty()) s.EvictOne(&stats_);
  auto& prim = s.primaries[primary];
  prim.vary = obj->vary;
  prim.variants++;
  auto [it, inserted] = s.entries.emplace(key, Shard::Entry{});
  Shard::Entry& e = it->second;
  e.obj = std::move(obj);
  e.charge = charge;
  size_t h = std::hash<std::string>()(key);
  auto g = s.ghost_count.find(h);
  if (g != s.ghost_count.end()) {
    e.queue = Shard::Queue::kMain;
    e.pos = s.main.insert(s.main.end(), &it->first);
  } else {
    e.queue = Shard::Queue::kSmall;
    e.pos = s.small.insert(s.small.end(), &it->first);
    s.small_used += charge;
  }
  s.used += charge;
  stats_.bytes.fetch_add(charge, std::memory_order_relaxed);
  stats_.objects.fetch_add(1, std::memory_order_relaxed);
  stats_.inserts.fetch_add(1, std::memory_order_relaxed);
  return true;
}

size_t Store::Invalidate(const std::string& primary) {
  Shard& s = ShardFor(primary);
  std::lock_guard<std::mutex> lock(s.mu);
  size_t n = 0;
  for (auto it = s.entries.begin(); it != s.entries.end();) {
    auto next = std::next(it);
    if (PrimaryOf(it->first) == primary) {
      s.Remove(it, &stats_);
      n++;
    }
    it = next;
  }
  stats_.purged.fetch_add(n, std::memory_order_relaxed);
  return n;
}

size_t Store::PurgeIf(const std::function<bool(const std::string& primary)>& pred) {
  size_t n = 0;
  for (auto& sp : shards_) {
    Shard& s = *sp;
    std::lock_guard<std::mutex> lock(s.mu);
    for (auto it = s.entries.begin(); it != s.entries.end();) {
      auto next = std::next(it);
      if (pred(std::string(PrimaryOf(it->first)))) {
        s.Remove(it, &stats_);
        n++;
      }
      it = next;
    }
  }
  stats_.purged.fetch_add(n, std::memory_order_relaxed);
  return n;
}

size_t Store::PurgePrefix(const std::string& prefix) {
  return PurgeIf([&](const std::string& p) { return p.compare(0, prefix.size(), prefix) == 0; });
}

size_t Store::PurgeHost(const std::string& host) {
  return PurgeIf([&](const std::string& p) {
    auto start = p.find("://");
    if (start == std::string::npos) return false;
    start += 3;
    auto end = p.find('/', start);
    return p.compare(start, end - start, host) == 0 && end - start == host.size();
  });
}

bool Store::JoinFill(const std::string& key, std::function<void()> wake) {
  Shard& s = ShardFor(std::string(PrimaryOf(key)));
  std::lock_guard<std::mutex> lock(s.mu);
  auto [it, inserted] = s.pending.try_emplace(key);
  if (inserted) return true;
  it->second.push_back(std::move(wake));
  stats_.coalesced.fetch_add(1, std::memory_order_relaxed);
  return false;
}

void Store::EndFill(const std::string& key) {
  Shard& s = ShardFor(std::string(PrimaryOf(key)));
  std::vector<std::function<void()>> waiters;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.pending.find(key);
    if (it == s.pending.end()) return;
    waiters = std::move(it->second);
    s.pending.erase(it);
  }
  for (auto& w : waiters) w();
}

}  // namespace keel::cache
