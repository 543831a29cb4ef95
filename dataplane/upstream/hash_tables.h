// Consistent-hashing lookup tables, built once per endpoint set on the config thread
// and shared read-only by every worker: a ketama-style ring and a Maglev table.
#pragma once

#include <cstdint>
#include <vector>

#include "dataplane/upstream/endpoint.h"

namespace keel::upstream {

// Ketama ring: each routable endpoint owns `points_per_weight × weight` points placed
// at Hash64("<key>#<i>"). A key belongs to the first point clockwise from its hash, so
// removing one of N endpoints moves only the keys it owned (~1/N).
class RingHashTable {
 public:
  static constexpr uint32_t kDefaultPointsPerWeight = 160;  // ketama's 40 × 4
  // Bounds memory and build time (12 bytes a point): larger requests are scaled down
  // proportionally, keeping relative weights.
  static constexpr uint64_t kMaxPoints = 1u << 22;

  RingHashTable(const EndpointSet& set, uint32_t points_per_weight);

  size_t size() const { return points_.size(); }
  // Position of the first point at or after `hash` (wrapping); size() must be > 0.
  size_t Find(uint64_t hash) const;
  uint32_t endpoint_at(size_t pos) const { return points_[pos % points_.size()].endpoint; }

 private:
  struct Point {
    uint64_t hash;
    uint32_t endpoint;
  };
  std::vector<Point> points_;
};

// Maglev (Eisenbud et al., NSDI 2016, §3.4) with weights: endpoints take turns filling
// their permutation's next free slot, a weight-w endpoint taking w/max_w of the turns.
// Table size is prime, 65537 or the next prime ≥ 100 × routable endpoints (the paper's
// bound for ≤1% imbalance).
class MaglevTable {
 public:
  static constexpr uint32_t kDefaultSize = 65537;

  explicit MaglevTable(const EndpointSet& set);

  size_t size() const { return table_.size(); }
  // Endpoint index owning slot hash % size(); the table must not be empty.
  uint32_t Lookup(uint64_t hash) const { return table_[hash % table_.size()]; }
  uint32_t slot(size_t i) const { return table_[i]; }

  static uint32_t TableSizeFor(size_t endpoints);

 private:
  std::vector<uint32_t> table_;
};

}  // namespace keel::upstream
