// Digests of a published snapshot and the endpoint-delta decision built on them.
#include "controller/serve/published.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
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

uint64_t EndpointsDigest(const google::protobuf::RepeatedPtrField<v1::Endpoint>& endpoints) {
  std::string buf;
  for (const v1::Endpoint& endpoint : endpoints) {
    // Length-prefix each endpoint: concatenated messages are not self-delimiting.
    size_t size = endpoint.ByteSizeLong();
    buf.append(reinterpret_cast<const char*>(&size), sizeof(size));
    AppendDeterministic(endpoint, &buf);
  }
  return Hash(buf);
}

}  // namespace

PublishedSnapshot::PublishedSnapshot(std::shared_ptr<const v1::Snapshot> snapshot)
    : base_(std::move(snapshot)), version_(base_->version()), built_at_(base_->built_at_unix_ms()) {
  endpoint_digests_.reserve(base_->clusters_size());
  for (const v1::Cluster& cluster : base_->clusters()) {
    endpoint_digests_.push_back(EndpointsDigest(cluster.endpoints()));
  }
  // One copy per full publish: endpoints are the bulk of a large snapshot, but hashing
  // "everything else" generically (new fields included) needs them out of the way.
  v1::Snapshot structure = *base_;
  structure.clear_version();
  structure.clear_built_at_unix_ms();
  for (v1::Cluster& cluster : *structure.mutable_clusters()) cluster.clear_endpoints();
  std::string bytes;
  AppendDeterministic(structure, &bytes);
  structure_digest_ = Hash(bytes);
}

PublishedSnapshot::PublishedSnapshot(const PublishedSnapshot& base, const v1::EndpointDelta& delta)
    : base_(base.base_),
      overlay_(base.overlay_),
      version_(delta.version()),
      built_at_(delta.built_at_unix_ms()),
      structure_digest_(base.structure_digest_),
      endpoint_digests_(base.endpoint_digests_) {
  // Cluster names are sorted (translation's contract), so a name finds its index.
  const auto& clusters = base_->clusters();
  for (const v1::ClusterEndpoints& changed : delta.clusters()) {
    auto it = std::lower_bound(clusters.begin(), clusters.end(), changed.cluster(),
                               [](const v1::Cluster& c, const std::string& name) { return c.name() < name; });
    if (it == clusters.end() || it->name() != changed.cluster()) {
      ok_ = false;
      continue;
    }
    const int index = static_cast<int>(it - clusters.begin());
    overlay_[index] = std::make_shared<const Endpoints>(changed.endpoints());
    endpoint_digests_[index] = EndpointsDigest(changed.endpoints());
  }
}

const google::protobuf::RepeatedPtrField<v1::Endpoint>& PublishedSnapshot::endpoints(int i) const {
  auto it = overlay_.find(i);
  return it != overlay_.end() ? *it->second : base_->clusters(i).endpoints();
}

const v1::Snapshot& PublishedSnapshot::snapshot() const {
  if (overlay_.empty() && version_ == base_->version() && built_at_ == base_->built_at_unix_ms())
    return *base_;
  std::call_once(merged_once_, [this] {
    merged_ = std::make_unique<v1::Snapshot>(*base_);
    for (const auto& [index, endpoints] : overlay_)
      *merged_->mutable_clusters(index)->mutable_endpoints() = *endpoints;
    merged_->set_version(version_);
    merged_->set_built_at_unix_ms(built_at_);
  });
  return *merged_;
}

const v1::ControllerMessage& PublishedSnapshot::FullMessage() const {
  std::call_once(full_once_, [this] {
    full_ = std::make_unique<v1::ControllerMessage>();
    *full_->mutable_update()->mutable_snapshot() = snapshot();
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
  delta->set_built_at_unix_ms(target.built_at_unix_ms());
  for (int i = 0; i < target.cluster_count(); ++i) {
    if (base.endpoint_digests()[i] == target.endpoint_digests()[i]) continue;
    v1::ClusterEndpoints* changed = delta->add_clusters();
    changed->set_cluster(target.cluster_name(i));
    *changed->mutable_endpoints() = target.endpoints(i);
  }
  return message;
}

}  // namespace keel::serve
