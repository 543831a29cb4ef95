// ClusterSelector and WorkerClusters: state carry-over across updates, request brackets.
#include "dataplane/upstream/selector.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <unordered_map>

namespace keel::upstream {

ClusterSelector::ClusterSelector(std::shared_ptr<const ClusterRuntime> cluster, uint64_t seed)
    : health_(cluster->health()), rng_(seed), seed_(seed) {
  Update(std::move(cluster));
}

void ClusterSelector::Update(std::shared_ptr<const ClusterRuntime> cluster) {
  std::unordered_map<std::string_view, size_t> old_index;
  if (cluster_) {
    const auto& old = cluster_->endpoints().endpoints();
    for (size_t i = 0; i < old.size(); ++i) old_index.emplace(old[i].key, i);
  }
  const auto& eps = cluster->endpoints().endpoints();
  std::vector<std::unique_ptr<EndpointState>> owned(eps.size());
  for (size_t i = 0; i < eps.size(); ++i) {
    auto it = old_index.find(eps[i].key);
    if (it != old_index.end() && owned_[it->second]) {
      owned[i] = std::move(owned_[it->second]);
    } else {
      owned[i] = std::make_unique<EndpointState>();
    }
  }
  for (auto& left : owned_) {
    if (left && left->in_flight > 0) {
      left->removed = true;
      draining_.push_back(std::move(left));
    }
  }
  owned_ = std::move(owned);
  states_.clear();
  for (auto& s : owned_) states_.push_back(s.get());
  health_ = HealthTracker(cluster->health());
  cluster_ = std::move(cluster);  // old keys (old_index) are dead past this line
  balancer_ = MakeBalancer(*cluster_, rng_.Next() ^ seed_);
}

std::optional<uint32_t> ClusterSelector::Pick(const PickContext& ctx) {
  PickView view(cluster_->endpoints(), states_.data(), ctx, &rng_);
  return balancer_->Pick(view);
}

ClusterSelector::Ticket ClusterSelector::OnRequestStart(uint32_t endpoint) {
  EndpointState* s = states_[endpoint];
  ++s->in_flight;
  return Ticket{s};
}

void ClusterSelector::OnRequestEnd(Ticket ticket, uint64_t latency_ns, Outcome outcome, uint64_t now_ns) {
  EndpointState* s = ticket.state;
  if (s == nullptr) return;
  if (s->in_flight > 0) --s->in_flight;
  if (s->removed) {
    if (s->in_flight == 0) {
      auto it = std::find_if(draining_.begin(), draining_.end(), [s](const auto& p) { return p.get() == s; });
      if (it != draining_.end()) draining_.erase(it);
    }
    return;
  }
  if (cluster_->lb().kind() == keel::config::v1::LbPolicy::PEAK_EWMA &&
      (outcome == Outcome::kSuccess || outcome == Outcome::kStatus5xx)) {
    const double tau_ms = cluster_->lb().ewma_decay_ms() == 0 ? 10000.0 : cluster_->lb().ewma_decay_ms();
    ObserveLatency(*s, static_cast<double>(latency_ns), now_ns, tau_ms * 1e6);
  }
  switch (outcome) {
    case Outcome::kSuccess:
      health_.OnSuccess(*s);
      break;
    case Outcome::kStatus5xx:
      if (health_.count_5xx()) {
        health_.OnFailure(*s, states_, now_ns);
      } else {
        health_.OnSuccess(*s);
      }
      break;
    case Outcome::kConnectFailure:
      health_.OnFailure(*s, states_, now_ns);
      break;
    case Outcome::kCancelled:
      break;
  }
}

void WorkerClusters::Update(const std::shared_ptr<const ClusterTable>& table) {
  // Owned keys: Update() below may free the old runtime that a string_view would point into.
  std::unordered_map<std::string, std::shared_ptr<ClusterSelector>> old;
  for (auto& sel : selectors_) old.emplace(sel->cluster().name(), sel);
  std::vector<std::shared_ptr<ClusterSelector>> next;
  next.reserve(table->size());
  ++generation_;
  for (size_t i = 0; i < table->size(); ++i) {
    const auto& rt = table->at(i);
    auto it = old.find(rt->name());
    if (it != old.end()) {
      if (&it->second->cluster() != rt.get()) it->second->Update(rt);
      next.push_back(it->second);
    } else {
      next.push_back(std::make_shared<ClusterSelector>(rt, seed_ ^ Mix64(generation_ * 1000003 + i)));
    }
  }
  old.clear();
  selectors_ = std::move(next);
}

void WorkerClusters::UpdateChanged(const std::shared_ptr<const ClusterTable>& table,
                                   std::span<const uint32_t> changed) {
  if (selectors_.size() != table->size()) return Update(table);
  for (uint32_t i : changed) {
    if (&selectors_[i]->cluster() != table->at(i).get()) selectors_[i]->Update(table->at(i));
  }
}

}  // namespace keel::upstream
