// Hashing and randomness for load balancing: a 64-bit string hash (consistent hashing,
// sticky cookies) and a tiny per-worker PRNG. Neither is cryptographic.
#pragma once

#include <cstdint>
#include <string_view>

namespace keel::upstream {

// 64-bit hash of `data`, stable across processes, builds and platforms (little- and
// big-endian hosts read blocks the same way), so every dataplane replica maps a key to
// the same endpoint and a sticky cookie stays valid after a restart. Written for this
// project: 8-byte multiply/rotate rounds and a murmur-style avalanche finaliser.
uint64_t Hash64(std::string_view data, uint64_t seed = 0);

// Avalanche mix of one 64-bit word (used to derive further hashes from one).
uint64_t Mix64(uint64_t x);

// splitmix64: fast, 64-bit state, good enough for P2C choices and jitter. One per
// worker, never shared, so it needs no atomics.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    state_ += 0x9E3779B97F4A7C15ull;
    return Mix64(state_);
  }
  // Uniform in [0, bound); bound > 0. Lemire's multiply-shift: no modulo bias worth
  // noticing for bound << 2^32 and no division.
  uint32_t Below(uint32_t bound) {
    return static_cast<uint32_t>(((Next() >> 32) * static_cast<uint64_t>(bound)) >> 32);
  }
  // Uniform in [0, 1).
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

}  // namespace keel::upstream
