// A published snapshot plus what the server precomputes ONCE per Publish so that each
// stream can decide "endpoint delta or full resend" in O(clusters) without touching
// the snapshot's bytes: a digest of everything except endpoints (the "structure") and
// one digest per cluster's endpoint list.
//
// An endpoint-only change is published as the previous entry's full snapshot (shared,
// never copied) plus an overlay of the changed clusters' endpoint lists. Copying a
// 10k-Ingress snapshot costs ~100 ms, the overlay microseconds; the merged snapshot is
// built only if some dataplane needs a full resend of that version.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "keel/config/v1/config.pb.h"

namespace keel::serve {

class PublishedSnapshot {
 public:
  // Computes the digests: one copy of the snapshot with endpoints cleared, serialized
  // and hashed, plus one hash per cluster's endpoints.
  explicit PublishedSnapshot(std::shared_ptr<const config::v1::Snapshot> snapshot);
  // `base` with the endpoints of delta.clusters() replaced; version and built_at from
  // the delta. The caller checked delta.base_version() == base.version(); clusters the
  // delta names that `base` lacks are ignored (false from ok()).
  PublishedSnapshot(const PublishedSnapshot& base, const config::v1::EndpointDelta& delta);

  // The merged snapshot (built on first use when this entry has an overlay).
  const config::v1::Snapshot& snapshot() const;
  const std::string& version() const { return version_; }
  int64_t built_at_unix_ms() const { return built_at_; }
  uint64_t structure_digest() const { return structure_digest_; }
  const std::vector<uint64_t>& endpoint_digests() const { return endpoint_digests_; }
  // Cluster i's name and current endpoints, without merging.
  int cluster_count() const { return base_->clusters_size(); }
  const std::string& cluster_name(int i) const { return base_->clusters(i).name(); }
  const google::protobuf::RepeatedPtrField<config::v1::Endpoint>& endpoints(int i) const;
  bool ok() const { return ok_; }

  // The full-resend message, built on first use and shared by every stream (protobuf
  // allows concurrent const access, so all writers serialize the same object).
  const config::v1::ControllerMessage& FullMessage() const;

 private:
  using Endpoints = google::protobuf::RepeatedPtrField<config::v1::Endpoint>;
  std::shared_ptr<const config::v1::Snapshot> base_;         // endpoints possibly stale, see overlay_
  std::map<int, std::shared_ptr<const Endpoints>> overlay_;  // cluster index → endpoints
  std::string version_;
  int64_t built_at_ = 0;
  bool ok_ = true;
  mutable std::once_flag merged_once_;
  mutable std::unique_ptr<config::v1::Snapshot> merged_;
  uint64_t structure_digest_ = 0;
  std::vector<uint64_t> endpoint_digests_;  // parallel to snapshot().clusters()
  mutable std::once_flag full_once_;
  mutable std::unique_ptr<config::v1::ControllerMessage> full_;
};

// An EndpointDelta turning `base` into `target` when they differ only in endpoints
// (same structure digest), naming exactly the clusters whose endpoints changed;
// nullopt when a full resend is needed.
std::optional<config::v1::ControllerMessage> MakeEndpointDelta(const PublishedSnapshot& base,
                                                               const PublishedSnapshot& target);

}  // namespace keel::serve
