// Per-worker upstream selection: a ClusterSelector per cluster (balancer + endpoint
// states + health + retry budget) and WorkerClusters, one per worker, which follows
// config updates while keeping every endpoint's state by address:port.
//
// Lifecycle the proxy follows on its worker thread:
//   auto sel = clusters.at(route.cluster_index);       // keep this shared_ptr for the request
//   auto idx = sel->Pick(ctx);                         // nullopt → 503
//   auto ticket = sel->OnRequestStart(*idx);
//   ... connect / exchange ...
//   sel->OnRequestEnd(ticket, latency_ns, outcome, now_ns);
// Tickets stay valid across Update(): an endpoint removed mid-request keeps its state
// until its last request ends.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dataplane/upstream/balancer.h"
#include "dataplane/upstream/cluster.h"
#include "dataplane/upstream/health.h"
#include "dataplane/upstream/retry.h"

namespace keel::upstream {

enum class Outcome {
  kSuccess,         // a response arrived (any status when eject_on_5xx is off)
  kConnectFailure,  // connect error, reset or timeout before a response
  kStatus5xx,       // a 5xx response: a failure only when HealthSettings.eject_on_5xx
  kCancelled,       // the client went away: says nothing about the endpoint
};

class ClusterSelector {
 public:
  struct Ticket {
    EndpointState* state = nullptr;
  };

  ClusterSelector(std::shared_ptr<const ClusterRuntime> cluster, uint64_t seed);
  ClusterSelector(const ClusterSelector&) = delete;
  ClusterSelector& operator=(const ClusterSelector&) = delete;

  // Swaps in a new runtime for this cluster (endpoint delta or new snapshot). States of
  // endpoints that remain (same address:port) move over: in-flight counts, EWMA, WRR
  // position, failure streaks and ejections survive.
  void Update(std::shared_ptr<const ClusterRuntime> cluster);

  std::optional<uint32_t> Pick(const PickContext& ctx);
  Ticket OnRequestStart(uint32_t endpoint);
  void OnRequestEnd(Ticket ticket, uint64_t latency_ns, Outcome outcome, uint64_t now_ns);

  const ClusterRuntime& cluster() const { return *cluster_; }
  const Endpoint& endpoint(uint32_t i) const { return cluster_->endpoints()[i]; }
  const EndpointState& state(uint32_t i) const { return *states_[i]; }
  const HealthTracker& health() const { return health_; }
  RetryBudget& retry_budget() { return retry_budget_; }
  Rng& rng() { return rng_; }
  // Removed endpoints still finishing requests.
  size_t draining() const { return draining_.size(); }

 private:
  std::shared_ptr<const ClusterRuntime> cluster_;
  std::vector<std::unique_ptr<EndpointState>> owned_;  // index-aligned with the set
  std::vector<EndpointState*> states_;                 // same, as PickView wants them
  std::vector<std::unique_ptr<EndpointState>> draining_;
  std::unique_ptr<Balancer> balancer_;
  HealthTracker health_;
  RetryBudget retry_budget_;
  Rng rng_;
  uint64_t seed_;
};

// One per worker: selectors indexed like ClusterTable (and RouteEntry cluster indices).
class WorkerClusters {
 public:
  explicit WorkerClusters(uint64_t seed) : seed_(seed) {}
  // Follows a new table; selectors are matched by cluster name, so a full snapshot that
  // keeps a cluster keeps its state too. Selectors of dropped clusters die when the last
  // request holding them ends.
  void Update(const std::shared_ptr<const ClusterTable>& table);
  // An endpoint delta: cluster indices survive deltas, so only the selectors at
  // `changed` follow `table`; the others already hold the shared, unchanged clusters.
  void UpdateChanged(const std::shared_ptr<const ClusterTable>& table, std::span<const uint32_t> changed);
  size_t size() const { return selectors_.size(); }
  const std::shared_ptr<ClusterSelector>& at(size_t i) const { return selectors_[i]; }

 private:
  std::vector<std::shared_ptr<ClusterSelector>> selectors_;
  uint64_t seed_;
  uint64_t generation_ = 0;
};

}  // namespace keel::upstream
