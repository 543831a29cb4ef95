// Endpoint selection: the per-endpoint mutable state, what a pick may see, and the one
// small Balancer interface every policy implements.
//
// Threading: Envoy's model. Every worker owns its own Balancer and EndpointState array
// per cluster (see selector.h), built from the same immutable ClusterRuntime. Nothing
// here is shared between threads, so there are no atomics and no locks; the price is
// that each worker sees only its own in-flight counts, latencies and failures (with N
// workers, least-request and EWMA act on 1/N of the traffic, which is still a fair
// sample, and passive ejection may take up to N× the failures to trip everywhere).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "dataplane/upstream/cluster.h"
#include "dataplane/upstream/hash.h"

namespace keel::upstream {

// Mutable per-endpoint state of one worker. Lives behind a stable pointer so that an
// endpoint update keeps it (keyed by address:port) and in-flight requests can finish.
struct EndpointState {
  uint32_t in_flight = 0;
  // Smooth weighted round robin's running weight (nginx's current_weight).
  int64_t wrr_current = 0;
  // Peak EWMA of response latency in ns and when it was last decayed.
  double ewma_ns = 0;
  uint64_t ewma_stamp_ns = 0;
  // Passive health.
  uint32_t consecutive_failures = 0;
  uint32_t ejections = 0;  // consecutive ejections without a success in between
  uint64_t ejected_until_ns = 0;
  // Removed from the cluster; kept only until in_flight reaches 0.
  bool removed = false;
};

// Endpoints already tried by this request (h2o's "tried" set). Holds endpoint identities
// (Endpoint::sticky_hash), not indices, so it stays right across an endpoint update
// between two attempts. Fixed capacity, no allocation: beyond kCapacity attempts the
// oldest entries are forgotten.
class TriedSet {
 public:
  static constexpr size_t kCapacity = 8;
  void Add(uint64_t endpoint_hash) {
    items_[count_ % kCapacity] = endpoint_hash;
    ++count_;
  }
  bool Contains(uint64_t endpoint_hash) const {
    const size_t n = count_ < kCapacity ? count_ : kCapacity;
    for (size_t i = 0; i < n; ++i) {
      if (items_[i] == endpoint_hash) return true;
    }
    return false;
  }
  bool empty() const { return count_ == 0; }

 private:
  uint64_t items_[kCapacity] = {};
  size_t count_ = 0;
};

struct PickContext {
  // Hash input taken from ClusterRuntime::hash_source() (see ExtractHashKey). Empty for
  // a hashing policy means "no key": the pick is random, as Envoy does.
  std::string_view hash_key;
  // Value of the sticky cookie (ClusterRuntime::lb().sticky().name()), if sent.
  std::string_view sticky_cookie;
  const TriedSet* tried = nullptr;
  // Monotonic clock (ns); passed in so callers batch clock reads and tests control time.
  uint64_t now_ns = 0;
};

// What one pick may see: the endpoint set, this worker's states, the request context.
class PickView {
 public:
  PickView(const EndpointSet& set, EndpointState* const* states, const PickContext& ctx, Rng* rng)
      : set_(set), states_(states), ctx_(ctx), rng_(rng) {}

  // Routable, not ejected at ctx.now_ns, not tried by this request.
  bool Usable(uint32_t i) const {
    return set_.is_routable(i) && states_[i]->ejected_until_ns <= ctx_.now_ns &&
           (ctx_.tried == nullptr || !ctx_.tried->Contains(set_[i].sticky_hash));
  }
  const EndpointSet& set() const { return set_; }
  EndpointState& state(uint32_t i) const { return *states_[i]; }
  const PickContext& ctx() const { return ctx_; }
  Rng& rng() const { return *rng_; }

  // First usable routable endpoint scanning from position `start` of routable(), wrapping.
  std::optional<uint32_t> ScanFrom(size_t start) const;

 private:
  const EndpointSet& set_;
  EndpointState* const* states_;
  const PickContext& ctx_;
  Rng* rng_;
};

class Balancer {
 public:
  virtual ~Balancer() = default;
  // Index into the EndpointSet, or nullopt when no endpoint is usable (answer 503).
  virtual std::optional<uint32_t> Pick(const PickView& view) = 0;
};

// The balancer for `cluster`'s LbPolicy (wrapped for sticky sessions when configured).
// `cluster` must outlive it (the selector keeps both together).
std::unique_ptr<Balancer> MakeBalancer(const ClusterRuntime& cluster, uint64_t seed);

// Peak EWMA (Finagle's PeakEwma): the latency estimate decays toward 0 with time
// constant tau while idle and jumps straight up to any slower observation.
void ObserveLatency(EndpointState& s, double latency_ns, uint64_t now_ns, double tau_ns);
// Finagle's load metric: ewma × (in_flight + 1); an endpoint with no estimate yet but
// work in flight gets a large penalty so one slow first request cannot hide it.
double PeakEwmaCost(EndpointState& s, uint64_t now_ns, double tau_ns);

// The key a hashing balancer should use, from the request parts the proxy has.
// `header` / `cookie` are callables string_view(string_view name) returning "" if absent.
template <typename HeaderFn, typename CookieFn>
std::string_view ExtractHashKey(const HashSource& src, std::string_view client_ip, std::string_view uri,
                                HeaderFn&& header, CookieFn&& cookie) {
  switch (src.kind) {
    case HashSource::Kind::kHeader:
      return header(std::string_view(src.name));
    case HashSource::Kind::kCookie:
      return cookie(std::string_view(src.name));
    case HashSource::Kind::kUri:
      return uri;
    case HashSource::Kind::kClientIp:
      break;
  }
  return client_ip;
}

}  // namespace keel::upstream
