// Ring and Maglev table construction (O(points log points) and O(M log M) respectively).
#include "dataplane/upstream/hash_tables.h"

#include <algorithm>
#include <string>

#include "dataplane/upstream/hash.h"

namespace keel::upstream {
namespace {

bool IsPrime(uint64_t n) {
  if (n < 2) return false;
  for (uint64_t d = 2; d * d <= n; ++d) {
    if (n % d == 0) return false;
  }
  return true;
}

}  // namespace

RingHashTable::RingHashTable(const EndpointSet& set, uint32_t points_per_weight) {
  if (points_per_weight == 0) points_per_weight = kDefaultPointsPerWeight;
  const uint64_t want = set.routable_weight() * points_per_weight;
  const double scale = want > kMaxPoints ? static_cast<double>(kMaxPoints) / static_cast<double>(want) : 1.0;
  std::string label;
  for (uint32_t idx : set.routable()) {
    const Endpoint& ep = set[idx];
    auto n = static_cast<uint64_t>(static_cast<double>(uint64_t{ep.weight} * points_per_weight) * scale);
    if (n == 0) n = 1;
    for (uint64_t i = 0; i < n; ++i) {
      label.assign(ep.key).append("#").append(std::to_string(i));
      points_.push_back(Point{Hash64(label), idx});
    }
  }
  // Ties broken by endpoint index so the ring is a pure function of the set.
  std::sort(points_.begin(), points_.end(), [](const Point& a, const Point& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.endpoint < b.endpoint;
  });
}

size_t RingHashTable::Find(uint64_t hash) const {
  auto it = std::lower_bound(points_.begin(), points_.end(), hash,
                             [](const Point& p, uint64_t h) { return p.hash < h; });
  return it == points_.end() ? 0 : static_cast<size_t>(it - points_.begin());
}

uint32_t MaglevTable::TableSizeFor(size_t endpoints) {
  uint64_t want = std::max<uint64_t>(kDefaultSize, uint64_t{100} * endpoints);
  while (!IsPrime(want)) ++want;
  return static_cast<uint32_t>(want);
}

MaglevTable::MaglevTable(const EndpointSet& set) {
  const auto routable = set.routable();
  if (routable.empty()) return;
  const uint32_t m = TableSizeFor(routable.size());
  constexpr uint32_t kEmpty = UINT32_MAX;
  table_.assign(m, kEmpty);

  struct Perm {
    uint32_t endpoint;
    uint64_t offset, skip, next;
    double weight;  // relative to the heaviest
    uint64_t turns;
  };
  std::vector<Perm> perms;
  perms.reserve(routable.size());
  uint32_t max_w = 1;
  for (uint32_t idx : routable) max_w = std::max(max_w, set[idx].weight);
  for (uint32_t idx : routable) {
    const Endpoint& ep = set[idx];
    const uint64_t h1 = Hash64(ep.key, 0x6d61676c65763031ull);
    const uint64_t h2 = Hash64(ep.key, 0x6d61676c65763032ull);
    perms.push_back(Perm{idx, h1 % m, h2 % (m - 1) + 1, 0, static_cast<double>(ep.weight) / max_w, 0});
  }
  uint32_t filled = 0;
  for (uint64_t round = 1; filled < m; ++round) {
    for (Perm& p : perms) {
      // A weight-w endpoint takes a turn whenever its share w/max_w of `round` turns
      // passes the next integer; the heaviest takes one every round.
      if (static_cast<double>(round) * p.weight < static_cast<double>(p.turns + 1)) continue;
      ++p.turns;
      uint64_t slot = (p.offset + p.next * p.skip) % m;
      while (table_[slot] != kEmpty) {
        ++p.next;
        slot = (p.offset + p.next * p.skip) % m;
      }
      table_[slot] = p.endpoint;
      ++p.next;
      if (++filled == m) break;
    }
  }
}

}  // namespace keel::upstream
