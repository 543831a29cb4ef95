// A published snapshot plus what the server precomputes ONCE per Publish so that each
// stream can decide "endpoint delta or full resend" in O(clusters) without touching
// the snapshot's bytes: a digest of everything except endpoints (the "structure") and
// one digest per cluster's endpoint list.
#pragma once

#include <cstdint>
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

  const config::v1::Snapshot& snapshot() const { return *snapshot_; }
  const std::string& version() const { return snapshot_->version(); }
  uint64_t structure_digest() const { return structure_digest_; }
  const std::vector<uint64_t>& endpoint_digests() const { return endpoint_digests_; }

  // The full-resend message, built on first use and shared by every stream (protobuf
  // allows concurrent const access, so all writers serialize the same object).
  const config::v1::ControllerMessage& FullMessage() const;

 private:
  std::shared_ptr<const config::v1::Snapshot> snapshot_;
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
