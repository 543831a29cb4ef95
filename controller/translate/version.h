// Snapshot versions: a 128-bit non-cryptographic hash over the snapshot's deterministic
// protobuf bytes, computed as a two-level tree so the endpoint fast path can re-version
// a snapshot without re-serializing it:
//   version = hex(H(rest ‖ cluster_1 ‖ … ‖ cluster_n))
// where rest = H(snapshot bytes with clusters, version and built_at cleared) and
// cluster_i = H(bytes of cluster i), clusters in name order.
//
// Why a non-cryptographic hash suffices: the version only answers "did the config
// change?" between one controller and its dataplanes. Accidental collisions at 128 bits
// are out of reach. A deliberate collision would need an Ingress author to craft one,
// and would only make the controller skip pushing that one change until the next
// change of anything; it grants no access and corrupts no config. Translation stays
// free of any TLS library (the dataplane shares this contract but links BoringSSL, the
// controller OpenSSL).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "keel/config/v1/config.pb.h"

namespace keel::translate {

struct Digest {
  uint64_t hi = 0;
  uint64_t lo = 0;
  bool operator==(const Digest&) const = default;
};

// Two 64-bit lanes with different multipliers and rotations, each finished with the
// splitmix64 finalizer; processes 8 bytes per step.
Digest Hash128(std::string_view bytes);
std::string DigestHex(const Digest& d);

struct SnapshotDigests {
  Digest rest;
  std::vector<Digest> clusters;  // parallel to Snapshot.clusters
};

// Deterministic serialization of any message (protobuf's deterministic mode).
std::string DeterministicBytes(const google::protobuf::Message& message);

// Computes the digests of `snapshot` (its version and built_at are ignored) and sets
// snapshot->version from them.
SnapshotDigests ComputeVersion(config::v1::Snapshot* snapshot);
// The version string for a set of digests, with the cluster digests at `indexes`
// replaced by `replacements` (the endpoint fast path), without copying the digests.
std::string VersionFromDigests(const SnapshotDigests& digests, const std::vector<int>& indexes = {},
                               const std::vector<Digest>& replacements = {});

}  // namespace keel::translate
