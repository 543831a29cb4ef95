// HeldConfig: what the dataplane's config client holds between updates — the last full
// snapshot, shared read-only, plus the endpoint lists that deltas replaced since, in a
// copy-on-write overlay. Applying a delta shares the snapshot and every untouched
// overlay shard, so it costs the changed clusters, not the world: copying a
// 10k-Ingress snapshot per delta cost ~13 ms (bench_delta BM_DeltaMergeOnly/10000).
// Immutable once built: a runtime or reader keeps the one it got, so a request sees
// the old or the new config, never half; a delta that fails leaves the held one as is.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"
#include "keel/config/v1/config.pb.h"

namespace keel::dataplane::config {

class HeldConfig {
 public:
  using Endpoints = google::protobuf::RepeatedPtrField<keel::config::v1::Endpoint>;

  // A full snapshot and no overlay. Indexes the cluster names once (deltas name
  // clusters by name).
  explicit HeldConfig(std::shared_ptr<const keel::config::v1::Snapshot> snapshot);

  const std::string& version() const { return version_; }
  int64_t built_at_unix_ms() const { return built_at_unix_ms_; }
  // The last full snapshot: all but endpoints, version and built_at is current.
  const std::shared_ptr<const keel::config::v1::Snapshot>& base() const { return base_; }
  // The endpoints of cluster `index` (into base()->clusters()) as held now.
  const Endpoints& endpoints(int index) const;
  // How many clusters' endpoints differ from base().
  size_t overlaid() const { return overlaid_; }
  // The complete snapshot as held. Without an overlay that is base() itself; with one,
  // a copy of the world: for the config dump and tests, never per delta.
  std::shared_ptr<const keel::config::v1::Snapshot> Materialize() const;

  // This plus `delta`. Errors (the caller NACKs; this stays valid and held): the
  // delta's base_version is not version() ("base version mismatch"), it has no
  // version, it names an unknown cluster or one twice, or an endpoint is invalid.
  Result<std::shared_ptr<const HeldConfig>> Apply(const keel::config::v1::EndpointDelta& delta) const;

 private:
  static constexpr size_t kShards = 64;
  // Cluster index → its current endpoints (as the delta carried them).
  using Shard = std::unordered_map<int, std::shared_ptr<const keel::config::v1::ClusterEndpoints>>;
  HeldConfig() = default;
  const keel::config::v1::ClusterEndpoints* Overlay(int index) const;

  std::shared_ptr<const keel::config::v1::Snapshot> base_;
  // Cluster name → index; the keys view into base_'s strings.
  std::shared_ptr<const std::unordered_map<std::string_view, int>> index_;
  std::array<std::shared_ptr<const Shard>, kShards> shards_;  // null: empty shard
  size_t overlaid_ = 0;
  std::string version_;
  int64_t built_at_unix_ms_ = 0;
};

}  // namespace keel::dataplane::config
