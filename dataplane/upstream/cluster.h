// Immutable per-cluster runtime objects (settings + endpoint set + hash tables) and the
// table of all clusters of a snapshot. Built on the config thread, shared read-only by
// workers; an EndpointDelta produces a new table that shares every untouched cluster.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "dataplane/upstream/endpoint.h"
#include "dataplane/upstream/hash_tables.h"
#include "keel/config/v1/config.pb.h"

namespace keel::upstream {

// Where a hashing balancer takes its key from (LbPolicy.hash_on, default client IP).
struct HashSource {
  enum class Kind { kClientIp, kHeader, kCookie, kUri };
  Kind kind = Kind::kClientIp;
  std::string name;  // header (lower-case) or cookie name
};

class ClusterRuntime {
 public:
  // Validates endpoints and builds the hash table the LB policy needs.
  static Result<std::shared_ptr<const ClusterRuntime>> Build(const keel::config::v1::Cluster& cluster);
  // The same cluster with a new endpoint list (EndpointDelta); settings are shared.
  Result<std::shared_ptr<const ClusterRuntime>> WithEndpoints(
      const EndpointSet::ProtoEndpoints& endpoints) const;

  const std::string& name() const { return settings_->name(); }
  // Every proto setting (LB, timeouts, retry, health, protocol, TLS); endpoints cleared.
  const keel::config::v1::Cluster& settings() const { return *settings_; }
  const keel::config::v1::LbPolicy& lb() const { return settings_->lb(); }
  const keel::config::v1::HealthSettings& health() const { return settings_->health(); }
  const keel::config::v1::RetryPolicy& retry() const { return settings_->retry(); }
  const HashSource& hash_source() const { return *hash_source_; }
  bool sticky() const { return !settings_->lb().sticky().name().empty(); }

  const EndpointSet& endpoints() const { return *endpoints_; }
  const std::shared_ptr<const EndpointSet>& endpoints_ptr() const { return endpoints_; }
  // Non-null only for RING_HASH / MAGLEV and a non-empty routable set.
  const RingHashTable* ring() const { return ring_.get(); }
  const MaglevTable* maglev() const { return maglev_.get(); }
  // Hash64 of the cluster proto's deterministic serialisation, endpoints included.
  uint64_t fingerprint() const { return fingerprint_; }

 private:
  static Result<std::shared_ptr<const ClusterRuntime>> Assemble(
      std::shared_ptr<const keel::config::v1::Cluster> settings,
      std::shared_ptr<const HashSource> hash_source, const EndpointSet::ProtoEndpoints& endpoints,
      uint64_t fingerprint);

  std::shared_ptr<const keel::config::v1::Cluster> settings_;
  std::shared_ptr<const HashSource> hash_source_;
  std::shared_ptr<const EndpointSet> endpoints_;
  std::shared_ptr<const RingHashTable> ring_;
  std::shared_ptr<const MaglevTable> maglev_;
  uint64_t fingerprint_ = 0;
};

// All clusters of one snapshot, in Snapshot.clusters order: index i here is the cluster
// index the router's RouteEntry carries, and indices survive endpoint deltas.
class ClusterTable {
 public:
  // With `previous`, clusters whose proto (settings and endpoints) is byte-identical to
  // the previous one's are reused as they are: a merged endpoint delta arriving as a
  // full snapshot rebuilds only the clusters it touched, and workers skip the rest.
  static Result<std::shared_ptr<const ClusterTable>> Build(const keel::config::v1::Snapshot& snapshot,
                                                           const ClusterTable* previous = nullptr);
  // A delta naming an unknown cluster or carrying a bad endpoint fails as a whole (NACK).
  Result<std::shared_ptr<const ClusterTable>> ApplyDelta(const keel::config::v1::EndpointDelta& delta) const;

  size_t size() const { return clusters_.size(); }
  const std::shared_ptr<const ClusterRuntime>& at(size_t i) const { return clusters_[i]; }
  // -1 when absent.
  int64_t Find(std::string_view name) const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<std::shared_ptr<const ClusterRuntime>> clusters_;
  std::unordered_map<std::string, size_t, Hash, std::equal_to<>> by_name_;
};

}  // namespace keel::upstream
