// Per-worker request limits keyed by (zone, client address): a token bucket for
// requests per second (nginx limit_req with `nodelay`, as ingress-nginx configures it)
// and a counter of in-flight requests (nginx limit_conn, which counts connections that
// have a request being processed; with HTTP/2 every stream counts).
//
// Why per worker and not shared: a shared table would need a lock or atomics on every
// request of every worker, the one thing the request path must not do. SO_REUSEPORT
// spreads a client's connections over the workers by a hash of the 4-tuple, so each
// worker enforces its share of the limit: rate/W, burst/W and connections/W (rounded up,
// at least 1). The whole process then admits at most about the configured limit from one
// address. The price: a client with a single keep-alive connection lands on one worker
// and gets only its share. With --workers 1 (tests, small pods) the limit is exact.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace keel::policy {

// Bounded memory: past kMaxEntries keys, idle entries (full buckets, zero counts) are
// swept; if none is idle, the new key is admitted untracked (fail open) and counted in
// `untracked()`, because refusing everyone new would let one flood deny all clients.
inline constexpr size_t kMaxEntries = 100000;

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class RateLimiter {
 public:
  explicit RateLimiter(uint32_t workers) : workers_(workers ? workers : 1) {}
  // Takes one token from `key`'s bucket (rate `rps`, capacity burst+1, both divided by
  // the worker count). Returns 0 when admitted, else the seconds until a token is back
  // (for Retry-After, at least 1).
  uint32_t Admit(std::string_view key, uint32_t rps, uint32_t burst, uint64_t now_ms);
  size_t size() const { return buckets_.size(); }
  uint64_t untracked() const { return untracked_; }

 private:
  struct Bucket {
    double tokens = 0;
    uint64_t at_ms = 0;
    double capacity = 0;
    double rate = 0;  // tokens per ms
  };
  bool Sweep(uint64_t now_ms);
  uint32_t workers_;
  std::unordered_map<std::string, Bucket, StringHash, std::equal_to<>> buckets_;
  uint64_t untracked_ = 0;
};

class ConcurrencyLimiter;

// Holds one in-flight slot until destroyed or released. Move-only; empty when the
// request was not counted. Must not outlive its limiter (both live on one worker).
class Lease {
 public:
  Lease() = default;
  Lease(Lease&& o) noexcept : count_(o.count_) { o.count_ = nullptr; }
  Lease& operator=(Lease&& o) noexcept;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease() { Release(); }
  void Release();
  bool held() const { return count_ != nullptr; }

 private:
  friend class ConcurrencyLimiter;
  explicit Lease(uint32_t* count) : count_(count) {}
  uint32_t* count_ = nullptr;
};

class ConcurrencyLimiter {
 public:
  explicit ConcurrencyLimiter(uint32_t workers) : workers_(workers ? workers : 1) {}
  // Admits when fewer than ceil(limit/W) requests of `key` are in flight here; the
  // lease gives the slot back. False: over the limit, `lease` untouched.
  bool Admit(std::string_view key, uint32_t limit, Lease* lease);
  uint32_t InFlight(std::string_view key) const;
  size_t size() const { return counts_.size(); }
  uint64_t untracked() const { return untracked_; }

 private:
  uint32_t workers_;
  // Node-based map: a Lease points at the mapped value, which never moves.
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> counts_;
  uint64_t untracked_ = 0;
};

}  // namespace keel::policy
