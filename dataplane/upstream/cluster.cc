// ClusterRuntime / ClusterTable construction and endpoint-delta application.
#include "dataplane/upstream/cluster.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "dataplane/upstream/hash.h"

namespace keel::upstream {

namespace cfg = keel::config::v1;

namespace {

uint64_t Fingerprint(const cfg::Cluster& cluster) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream out(&stream);
  out.SetSerializationDeterministic(true);
  cluster.SerializeToCodedStream(&out);
  out.Trim();
  return Hash64(bytes);
}

}  // namespace

Result<std::shared_ptr<const ClusterRuntime>> ClusterRuntime::Build(const cfg::Cluster& cluster) {
  if (cluster.name().empty()) return Error{"cluster with an empty name"};
  auto settings = std::make_shared<cfg::Cluster>(cluster);
  settings->clear_endpoints();
  auto hs = std::make_shared<HashSource>();
  const auto& on = cluster.lb().hash_on();
  switch (on.source_case()) {
    case cfg::HashOn::kHeader:
      if (on.header().empty()) return Error{"cluster " + cluster.name() + ": hash_on.header is empty"};
      hs->kind = HashSource::Kind::kHeader;
      hs->name = on.header();
      for (char& c : hs->name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      break;
    case cfg::HashOn::kCookie:
      if (on.cookie().empty()) return Error{"cluster " + cluster.name() + ": hash_on.cookie is empty"};
      hs->kind = HashSource::Kind::kCookie;
      hs->name = on.cookie();
      break;
    case cfg::HashOn::kUri:
      hs->kind = HashSource::Kind::kUri;
      break;
    default:
      hs->kind = HashSource::Kind::kClientIp;
  }
  auto r = Assemble(std::move(settings), std::move(hs), cluster.endpoints(), Fingerprint(cluster));
  if (!r.ok()) return Error{"cluster " + cluster.name() + ": " + r.error()};
  return r;
}

Result<std::shared_ptr<const ClusterRuntime>> ClusterRuntime::WithEndpoints(
    const EndpointSet::ProtoEndpoints& endpoints) const {
  cfg::Cluster full = *settings_;
  *full.mutable_endpoints() = endpoints;
  auto r = Assemble(settings_, hash_source_, endpoints, Fingerprint(full));
  if (!r.ok()) return Error{"cluster " + name() + ": " + r.error()};
  return r;
}

Result<std::shared_ptr<const ClusterRuntime>> ClusterRuntime::Assemble(
    std::shared_ptr<const cfg::Cluster> settings, std::shared_ptr<const HashSource> hash_source,
    const EndpointSet::ProtoEndpoints& endpoints, uint64_t fingerprint) {
  auto set = EndpointSet::Build(endpoints);
  if (!set.ok()) return Error{set.error()};
  auto rt = std::make_shared<ClusterRuntime>();
  rt->settings_ = std::move(settings);
  rt->hash_source_ = std::move(hash_source);
  rt->endpoints_ = std::move(set.value());
  rt->fingerprint_ = fingerprint;
  if (!rt->endpoints_->routable().empty()) {
    switch (rt->settings_->lb().kind()) {
      case cfg::LbPolicy::RING_HASH:
        rt->ring_ = std::make_shared<RingHashTable>(*rt->endpoints_, rt->settings_->lb().ring_size());
        break;
      case cfg::LbPolicy::MAGLEV:
        rt->maglev_ = std::make_shared<MaglevTable>(*rt->endpoints_);
        break;
      default:
        break;
    }
  }
  return std::shared_ptr<const ClusterRuntime>(std::move(rt));
}

Result<std::shared_ptr<const ClusterTable>> ClusterTable::Build(const cfg::Snapshot& snapshot,
                                                                const ClusterTable* previous) {
  auto table = std::make_shared<ClusterTable>();
  table->clusters_.reserve(static_cast<size_t>(snapshot.clusters_size()));
  for (const auto& c : snapshot.clusters()) {
    if (!table->by_name_.emplace(c.name(), table->clusters_.size()).second) {
      return Error{"duplicate cluster " + c.name()};
    }
    if (previous != nullptr) {
      const int64_t i = previous->Find(c.name());
      if (i >= 0 && previous->clusters_[static_cast<size_t>(i)]->fingerprint() == Fingerprint(c)) {
        table->clusters_.push_back(previous->clusters_[static_cast<size_t>(i)]);
        continue;
      }
    }
    auto rt = ClusterRuntime::Build(c);
    if (!rt.ok()) return Error{rt.error()};
    table->clusters_.push_back(std::move(rt.value()));
  }
  return std::shared_ptr<const ClusterTable>(std::move(table));
}

Result<std::shared_ptr<const ClusterTable>> ClusterTable::ApplyDelta(const cfg::EndpointDelta& delta) const {
  auto table = std::make_shared<ClusterTable>(*this);
  for (const auto& ce : delta.clusters()) {
    const int64_t i = Find(ce.cluster());
    if (i < 0) return Error{"endpoint delta names unknown cluster " + ce.cluster()};
    auto rt = clusters_[static_cast<size_t>(i)]->WithEndpoints(ce.endpoints());
    if (!rt.ok()) return Error{rt.error()};
    table->clusters_[static_cast<size_t>(i)] = std::move(rt.value());
  }
  return std::shared_ptr<const ClusterTable>(std::move(table));
}

int64_t ClusterTable::Find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? -1 : static_cast<int64_t>(it->second);
}

}  // namespace keel::upstream
