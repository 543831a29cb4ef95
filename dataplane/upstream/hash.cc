// Hash64 and Mix64 (see hash.h for the stability contract).
#include "dataplane/upstream/hash.h"

#include <cstring>

namespace keel::upstream {
namespace {

constexpr uint64_t kP1 = 0x9E3779B185EBCA87ull;
constexpr uint64_t kP2 = 0xC2B2AE3D27D4EB4Full;
constexpr uint64_t kP3 = 0x165667B19E3779F9ull;

inline uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// Little-endian load regardless of host order, so hashes are identical everywhere.
inline uint64_t Load64(const unsigned char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

}  // namespace

uint64_t Mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDull;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ull;
  x ^= x >> 33;
  return x;
}

uint64_t Hash64(std::string_view data, uint64_t seed) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  uint64_t h = seed ^ (kP3 + static_cast<uint64_t>(n) * kP1);
  while (n >= 8) {
    uint64_t k = Load64(p, 8) * kP2;
    k = Rotl(k, 31) * kP1;
    h = Rotl(h ^ k, 27) * kP1 + kP3;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t k = Load64(p, n) * kP1;
    k = Rotl(k, 23) * kP2;
    h = Rotl(h ^ k, 29) * kP2 + kP1;
  }
  return Mix64(h);
}

}  // namespace keel::upstream
