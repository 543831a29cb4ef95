// HeldConfig: full snapshot + sharded copy-on-write endpoint overlay (see the header).
#include "dataplane/config/held_config.h"

#include <unordered_set>
#include <utility>
#include <vector>

#include "dataplane/config/validate.h"

namespace keel::dataplane::config {

namespace v1 = ::keel::config::v1;

HeldConfig::HeldConfig(std::shared_ptr<const v1::Snapshot> snapshot)
    : base_(std::move(snapshot)), version_(base_->version()), built_at_unix_ms_(base_->built_at_unix_ms()) {
  auto index = std::make_shared<std::unordered_map<std::string_view, int>>();
  index->reserve(static_cast<size_t>(base_->clusters_size()));
  for (int i = 0; i < base_->clusters_size(); ++i) index->emplace(base_->clusters(i).name(), i);
  index_ = std::move(index);
}

const v1::ClusterEndpoints* HeldConfig::Overlay(int index) const {
  const auto& shard = shards_[static_cast<size_t>(index) % kShards];
  if (!shard) return nullptr;
  auto it = shard->find(index);
  return it == shard->end() ? nullptr : it->second.get();
}

const HeldConfig::Endpoints& HeldConfig::endpoints(int index) const {
  const v1::ClusterEndpoints* o = Overlay(index);
  return o ? o->endpoints() : base_->clusters(index).endpoints();
}

std::shared_ptr<const v1::Snapshot> HeldConfig::Materialize() const {
  if (overlaid_ == 0 && version_ == base_->version() && built_at_unix_ms_ == base_->built_at_unix_ms()) {
    return base_;
  }
  auto out = std::make_shared<v1::Snapshot>(*base_);
  for (const auto& shard : shards_) {
    if (!shard) continue;
    for (const auto& [index, ce] : *shard)
      *out->mutable_clusters(index)->mutable_endpoints() = ce->endpoints();
  }
  out->set_version(version_);
  out->set_built_at_unix_ms(built_at_unix_ms_);
  return out;
}

Result<std::shared_ptr<const HeldConfig>> HeldConfig::Apply(const v1::EndpointDelta& delta) const {
  if (delta.base_version() != version_) {
    return Error{"base version mismatch: delta base '" + delta.base_version() + "', holding '" + version_ +
                 "'"};
  }
  if (delta.version().empty()) return Error{"endpoint delta has no version"};
  // Validate everything before building anything: a bad delta changes nothing.
  std::vector<int> indexes;
  indexes.reserve(static_cast<size_t>(delta.clusters_size()));
  std::unordered_set<int> seen;
  for (const v1::ClusterEndpoints& change : delta.clusters()) {
    auto it = index_->find(change.cluster());
    if (it == index_->end()) return Error{"endpoint delta names unknown cluster " + change.cluster()};
    if (!seen.insert(it->second).second)
      return Error{"endpoint delta names cluster " + change.cluster() + " twice"};
    if (Status s = ValidateEndpoints(change.cluster(), change.endpoints()); !s) return Error{s.error()};
    indexes.push_back(it->second);
  }
  auto next = std::shared_ptr<HeldConfig>(new HeldConfig());
  next->base_ = base_;
  next->index_ = index_;
  next->shards_ = shards_;  // shared; the touched ones are cloned below, once each
  next->overlaid_ = overlaid_;
  next->version_ = delta.version();
  next->built_at_unix_ms_ = delta.built_at_unix_ms();
  std::array<std::shared_ptr<Shard>, kShards> cloned;
  for (size_t k = 0; k < indexes.size(); ++k) {
    const size_t s = static_cast<size_t>(indexes[k]) % kShards;
    if (!cloned[s]) {
      cloned[s] = shards_[s] ? std::make_shared<Shard>(*shards_[s]) : std::make_shared<Shard>();
      next->shards_[s] = cloned[s];
    }
    auto ce = std::make_shared<v1::ClusterEndpoints>(delta.clusters(static_cast<int>(k)));
    auto [it, inserted] = cloned[s]->insert_or_assign(indexes[k], std::move(ce));
    (void)it;
    if (inserted) next->overlaid_++;
  }
  return std::shared_ptr<const HeldConfig>(std::move(next));
}

}  // namespace keel::dataplane::config
