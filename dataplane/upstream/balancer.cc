// The selection policies: smooth weighted round robin, random, least-request and peak
// EWMA (both power of two choices), ring hash, Maglev, and the sticky-cookie wrapper.
#include "dataplane/upstream/balancer.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace keel::upstream {

namespace cfg = keel::config::v1;

std::optional<uint32_t> PickView::ScanFrom(size_t start) const {
  const auto routable = set_.routable();
  const size_t n = routable.size();
  for (size_t k = 0; k < n; ++k) {
    const uint32_t i = routable[(start + k) % n];
    if (Usable(i)) return i;
  }
  return std::nullopt;
}

void ObserveLatency(EndpointState& s, double latency_ns, uint64_t now_ns, double tau_ns) {
  const double td = now_ns > s.ewma_stamp_ns ? static_cast<double>(now_ns - s.ewma_stamp_ns) : 0.0;
  const double w = std::exp(-td / tau_ns);
  s.ewma_ns = latency_ns > s.ewma_ns ? latency_ns : s.ewma_ns * w + latency_ns * (1.0 - w);
  s.ewma_stamp_ns = std::max(s.ewma_stamp_ns, now_ns);
}

double PeakEwmaCost(EndpointState& s, uint64_t now_ns, double tau_ns) {
  ObserveLatency(s, 0.0, now_ns, tau_ns);  // decay toward 0 while idle (Finagle does the same)
  constexpr double kPenalty = 1e15;        // ~11.5 days in ns: dwarfs any real latency
  if (s.ewma_ns == 0.0 && s.in_flight != 0) return kPenalty + s.in_flight;
  return s.ewma_ns * (s.in_flight + 1);
}

namespace {

// Smooth weighted round robin (nginx ngx_http_upstream_get_peer): every pick adds each
// usable endpoint's weight to its running weight, takes the largest and subtracts the
// total from it. Over one cycle of sum(weights) picks each endpoint gets exactly its
// weight, interleaved. O(n) a pick; uniform weights use an O(1) cursor instead.
class RoundRobinBalancer final : public Balancer {
 public:
  explicit RoundRobinBalancer(uint64_t seed) : cursor_(seed) {}
  std::optional<uint32_t> Pick(const PickView& v) override {
    const auto routable = v.set().routable();
    if (routable.empty()) return std::nullopt;
    if (v.set().uniform_weights()) {
      const size_t n = routable.size();
      for (size_t k = 0; k < n; ++k) {
        const uint32_t i = routable[cursor_++ % n];
        if (v.Usable(i)) return i;
      }
      return std::nullopt;
    }
    int64_t total = 0;
    std::optional<uint32_t> best;
    for (uint32_t i : routable) {
      if (!v.Usable(i)) continue;
      EndpointState& s = v.state(i);
      s.wrr_current += v.set()[i].weight;
      total += v.set()[i].weight;
      if (!best || s.wrr_current > v.state(*best).wrr_current) best = i;
    }
    if (best) v.state(*best).wrr_current -= total;
    return best;
  }

 private:
  uint64_t cursor_;  // starts at a per-worker offset so workers do not move in lockstep
};

// Weight-proportional random choice (binary search over cumulative weights).
class RandomBalancer final : public Balancer {
 public:
  explicit RandomBalancer(const EndpointSet& set) {
    uint64_t sum = 0;
    for (uint32_t i : set.routable()) cumulative_.push_back(sum += set[i].weight);
  }
  std::optional<uint32_t> Pick(const PickView& v) override {
    const auto routable = v.set().routable();
    if (routable.empty()) return std::nullopt;
    size_t pos = 0;
    for (int attempt = 0; attempt < 4; ++attempt) {
      const uint64_t r = v.rng().Next() % cumulative_.back();
      pos = static_cast<size_t>(std::upper_bound(cumulative_.begin(), cumulative_.end(), r) -
                                cumulative_.begin());
      if (v.Usable(routable[pos])) return routable[pos];
    }
    return v.ScanFrom(pos);
  }

 private:
  std::vector<uint64_t> cumulative_;
};

// Power of two choices (Mitzenmacher): sample two distinct endpoints, keep the one with
// the lower load/weight. Load is in-flight requests (LEAST_REQUEST) or peak EWMA cost.
class P2CBalancer final : public Balancer {
 public:
  explicit P2CBalancer(double tau_ns) : tau_ns_(tau_ns) {}
  std::optional<uint32_t> Pick(const PickView& v) override {
    const auto routable = v.set().routable();
    const size_t n = routable.size();
    if (n == 0) return std::nullopt;
    if (n == 1) return v.Usable(routable[0]) ? std::optional<uint32_t>(routable[0]) : std::nullopt;
    for (int attempt = 0; attempt < 4; ++attempt) {
      const uint32_t a = v.rng().Below(static_cast<uint32_t>(n));
      const uint32_t b = (a + 1 + v.rng().Below(static_cast<uint32_t>(n - 1))) % static_cast<uint32_t>(n);
      const uint32_t ia = routable[a], ib = routable[b];
      const bool ua = v.Usable(ia), ub = v.Usable(ib);
      if (ua && ub) return Load(v, ib) < Load(v, ia) ? ib : ia;
      if (ua) return ia;
      if (ub) return ib;
    }
    return v.ScanFrom(v.rng().Below(static_cast<uint32_t>(n)));
  }

 private:
  double Load(const PickView& v, uint32_t i) const {
    EndpointState& s = v.state(i);
    const double raw = tau_ns_ > 0 ? PeakEwmaCost(s, v.ctx().now_ns, tau_ns_) : s.in_flight + 1.0;
    return raw / v.set()[i].weight;
  }
  double tau_ns_;  // 0: least request
};

uint64_t KeyHash(const PickView& v) {
  return v.ctx().hash_key.empty() ? v.rng().Next() : Hash64(v.ctx().hash_key);
}

// Consistent hashing on a ketama ring: the first usable endpoint clockwise from the key.
class RingHashBalancer final : public Balancer {
 public:
  explicit RingHashBalancer(const RingHashTable* ring) : ring_(ring) {}
  std::optional<uint32_t> Pick(const PickView& v) override {
    if (ring_ == nullptr || ring_->size() == 0) return std::nullopt;
    const uint64_t h = KeyHash(v);
    const size_t pos = ring_->Find(h);
    // A short walk finds the next distinct usable endpoint in the usual case; past it
    // (most endpoints ejected or tried) a bounded scan keeps the pick O(n).
    const size_t walk = std::min<size_t>(ring_->size(), 64);
    for (size_t k = 0; k < walk; ++k) {
      const uint32_t i = ring_->endpoint_at(pos + k);
      if (v.Usable(i)) return i;
    }
    return v.ScanFrom(static_cast<size_t>(h % v.set().routable().size()));
  }

 private:
  const RingHashTable* ring_;
};

// Maglev lookup; an unusable owner makes the key rehash (deterministically), so a key
// whose endpoint is ejected lands on the same substitute on every worker and replica.
class MaglevBalancer final : public Balancer {
 public:
  explicit MaglevBalancer(const MaglevTable* table) : table_(table) {}
  std::optional<uint32_t> Pick(const PickView& v) override {
    if (table_ == nullptr || table_->size() == 0) return std::nullopt;
    uint64_t h = KeyHash(v);
    for (uint64_t attempt = 0; attempt < 8; ++attempt) {
      const uint32_t i = table_->Lookup(attempt == 0 ? h : Mix64(h + attempt));
      if (v.Usable(i)) return i;
    }
    return v.ScanFrom(static_cast<size_t>(h % v.set().routable().size()));
  }

 private:
  const MaglevTable* table_;
};

// nginx "affinity: cookie": the cookie names an endpoint by its stable hash; when that
// endpoint is gone, ejected or already tried, the configured policy picks another and
// the proxy re-issues the cookie (Endpoint::sticky_value).
class StickyBalancer final : public Balancer {
 public:
  explicit StickyBalancer(std::unique_ptr<Balancer> inner) : inner_(std::move(inner)) {}
  std::optional<uint32_t> Pick(const PickView& v) override {
    uint64_t h;
    if (!v.ctx().sticky_cookie.empty() && ParseStickyValue(v.ctx().sticky_cookie, &h)) {
      const int64_t i = v.set().FindBySticky(h);
      if (i >= 0 && v.Usable(static_cast<uint32_t>(i))) return static_cast<uint32_t>(i);
    }
    return inner_->Pick(v);
  }

 private:
  std::unique_ptr<Balancer> inner_;
};

}  // namespace

std::unique_ptr<Balancer> MakeBalancer(const ClusterRuntime& cluster, uint64_t seed) {
  std::unique_ptr<Balancer> b;
  const auto& lb = cluster.lb();
  switch (lb.kind()) {
    case cfg::LbPolicy::LEAST_REQUEST:
      b = std::make_unique<P2CBalancer>(0.0);
      break;
    case cfg::LbPolicy::PEAK_EWMA: {
      // Finagle's default decay window is 10 s.
      const double tau_ms = lb.ewma_decay_ms() == 0 ? 10000.0 : lb.ewma_decay_ms();
      b = std::make_unique<P2CBalancer>(tau_ms * 1e6);
      break;
    }
    case cfg::LbPolicy::RING_HASH:
      b = std::make_unique<RingHashBalancer>(cluster.ring());
      break;
    case cfg::LbPolicy::MAGLEV:
      b = std::make_unique<MaglevBalancer>(cluster.maglev());
      break;
    case cfg::LbPolicy::RANDOM:
      if (!cluster.endpoints().routable().empty()) {
        b = std::make_unique<RandomBalancer>(cluster.endpoints());
      } else {
        b = std::make_unique<RoundRobinBalancer>(seed);  // returns nullopt on an empty set
      }
      break;
    default:
      b = std::make_unique<RoundRobinBalancer>(seed);
  }
  if (cluster.sticky()) b = std::make_unique<StickyBalancer>(std::move(b));
  return b;
}

}  // namespace keel::upstream
