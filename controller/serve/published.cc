// Digests of a published snapshot and the endpoint-delta decision built on them.
#include "controller/serve/published.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <functional>
#include <string_view>
#include <utility>

namespace keel::serve {
namespace {

namespace v1 = ::keel::config::v1;

// Deterministic bytes (no maps in the contract today, but a future map field must
// not make equal snapshots hash differently).
void AppendDeterministic(const google::protobuf::MessageLite& message, std::string* out) {
  message.ByteSizeLong();  // SerializeWithCachedSizes needs the sizes cached first.
  google::protobuf::io::StringOutputStream stream(out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeWithCachedSizes(&coded);
}

uint64_t Hash(std::string_view bytes) { return std::hash<std::string_view>{}(bytes); }

uint64_t EndpointsDigest(const v1::Cluster& cluster) {
  std::string buf;
  for (const v1::Endpoint& endpoint : cluster.endpoints()) {
    // Length-prefix each endpoint: concatenated messages are not self-delimiting.
    size_t size = endpoint.ByteSizeLong();
    buf.append(reinterpret_cast<const char*>(&size), sizeof(size));
    AppendDeterministic(endpoint, &buf);
  }
  return Hash(buf);
}

}  // namespace

PublishedSnapshot::PublishedSnapshot(std::shared_ptr<const v1::Snapshot> snapshot)
    : snapshot_(std::move(snapshot)) {
  endpoint_digests_.reserve(snapshot_->clusters_size());
  for (const v1::Cluster& cluster : snapshot_->clusters()) {
    endpoint_digests_.push_back(EndpointsDigest(cluster));
  }
  // One copy per publish: endpoints are the bulk of a large snapshot, but hashing
  // "everything else" generically (new fields included) needs them out of the way.
  v1::Snapshot structure = *snapshot_;
  structure.clear_version();
  structure.clear_built_at_unix_ms();
  for (v1::Cluster& cluster : *structure.mutable_clusters()) cluster.clear_endpoints();
  std::string bytes;
  AppendDeterministic(structure, &bytes);
  structure_digest_ = Hash(bytes);
}

const v1::ControllerMessage& PublishedSnapshot::FullMessage() const {
  std::call_once(full_once_, [this] {
    full_ = std::make_unique<v1::ControllerMessage>();
    *full_->mutable_update()->mutable_snapshot() = *snapshot_;
  });
  return *full_;
}

std::optional<v1::ControllerMessage> MakeEndpointDelta(const PublishedSnapshot& base,
                                                       const PublishedSnapshot& target) {
  // Equal structure implies the same cluster names in the same (sorted) order, so
  // the digest vectors line up index by index.
  if (base.structure_digest() != target.structure_digest() ||
      base.endpoint_digests().size() != target.endpoint_digests().size()) {
    return std::nullopt;
  }
  v1::ControllerMessage message;
  v1::EndpointDelta* delta = message.mutable_update()->mutable_endpoint_delta();
  delta->set_base_version(base.version());
  delta->set_version(target.version());
  delta->set_built_at_unix_ms(target.snapshot().built_at_unix_ms());
  const auto& clusters = target.snapshot().clusters();
  for (int i = 0; i < clusters.size(); ++i) {
    if (base.endpoint_digests()[i] == target.endpoint_digests()[i]) continue;
    v1::ClusterEndpoints* changed = delta->add_clusters();
    changed->set_cluster(clusters[i].name());
    *changed->mutable_endpoints() = clusters[i].endpoints();
  }
  return message;
}

}  // namespace keel::serve
