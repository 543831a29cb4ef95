// Cost of one endpoint delta (one cluster's endpoints change) on a snapshot of N
// virtual hosts, each with a Prefix and a regex route to its own cluster of 5
// endpoints: the dataplane's config-thread work (merge + Runtime) and a worker's swap,
// for the old path (full Runtime::Build of the merged snapshot, WorkerClusters::Update)
// against the delta path (Runtime::ApplyDelta, WorkerClusters::UpdateChanged).
// BM_DeltaApply and BM_DeltaMergeOnly merge by copying the snapshot (ApplyEndpointDelta,
// the client before HeldConfig); BM_DeltaHeldApply and BM_DeltaHeldMergeOnly are what
// the config client does now (HeldConfig::Apply shares the snapshot).
#include <benchmark/benchmark.h>

#include <string>

#include "dataplane/config/held_config.h"
#include "dataplane/config/validate.h"
#include "dataplane/proxy/runtime.h"
#include "dataplane/upstream/selector.h"

namespace {

namespace v1 = keel::config::v1;
using keel::proxy::Runtime;

void AddEndpoints(v1::Cluster* c, int n, int base) {
  for (int e = 0; e < n; ++e) {
    v1::Endpoint* ep = c->add_endpoints();
    ep->set_address("10." + std::to_string((base >> 8) & 255) + "." + std::to_string(base & 255) + "." +
                    std::to_string(e + 1));
    ep->set_port(8080);
    ep->set_weight(1);
    ep->set_ready(true);
    ep->set_serving(true);
  }
}

std::shared_ptr<const v1::Snapshot> World(int n) {
  auto s = std::make_shared<v1::Snapshot>();
  s->set_version("v1");
  for (int i = 0; i < n; ++i) {
    char name[32];
    snprintf(name, sizeof name, "ns/svc%05d:80", i);
    v1::Cluster* c = s->add_clusters();
    c->set_name(name);
    AddEndpoints(c, 5, i);
  }
  for (int i = 0; i < n; ++i) {
    char host[48];
    snprintf(host, sizeof host, "host%05d.example.com", i);
    v1::VirtualHost* vh = s->add_virtual_hosts();
    vh->set_name(host);
    for (auto [kind, path] :
         {std::pair{v1::RouteMatch::REGEX, "/api/v[0-9]+/items"}, std::pair{v1::RouteMatch::PREFIX, "/"}}) {
      v1::Route* r = vh->add_routes();
      r->mutable_match()->set_path_kind(kind);
      r->mutable_match()->set_path(path);
      r->mutable_forward()->add_clusters()->set_cluster(s->clusters(i).name());
    }
  }
  return s;
}

v1::EndpointDelta OneCluster(const v1::Snapshot& s, int which, int round) {
  v1::EndpointDelta d;
  d.set_base_version(s.version());
  d.set_version("v" + std::to_string(round + 2));
  v1::ClusterEndpoints* ce = d.add_clusters();
  ce->set_cluster(s.clusters(which).name());
  v1::Cluster tmp;
  AddEndpoints(&tmp, 4 + round % 2, which);
  *ce->mutable_endpoints() = tmp.endpoints();
  return d;
}

void BM_DeltaFullRebuild(benchmark::State& state) {
  auto base = Runtime::Build(World(static_cast<int>(state.range(0)))).value();
  int round = 0;
  for (auto _ : state) {
    auto d = OneCluster(*base->snapshot, round % base->clusters->size(), round);
    auto merged = keel::dataplane::config::ApplyEndpointDelta(*base->snapshot, d).value();
    auto rt = Runtime::Build(std::move(merged), base.get());
    benchmark::DoNotOptimize(rt);
    ++round;
  }
}

void BM_DeltaApply(benchmark::State& state) {
  auto base = Runtime::Build(World(static_cast<int>(state.range(0)))).value();
  int round = 0;
  for (auto _ : state) {
    auto d = OneCluster(*base->snapshot, round % base->clusters->size(), round);
    auto merged = keel::dataplane::config::ApplyEndpointDelta(*base->snapshot, d).value();
    auto rt = Runtime::ApplyDelta(*base, std::move(merged), d);
    benchmark::DoNotOptimize(rt);
    ++round;
  }
}

// The merge alone (copy of the held snapshot), which both paths pay.
void BM_DeltaMergeOnly(benchmark::State& state) {
  auto base = Runtime::Build(World(static_cast<int>(state.range(0)))).value();
  int round = 0;
  for (auto _ : state) {
    auto d = OneCluster(*base->snapshot, round % base->clusters->size(), round);
    auto merged = keel::dataplane::config::ApplyEndpointDelta(*base->snapshot, d).value();
    benchmark::DoNotOptimize(merged);
    ++round;
  }
}

// The config client's path today: the held snapshot is shared, the delta overlaid.
void BM_DeltaHeldApply(benchmark::State& state) {
  auto base = Runtime::Build(World(static_cast<int>(state.range(0)))).value();
  auto held = std::make_shared<const keel::dataplane::config::HeldConfig>(base->snapshot);
  int round = 0;
  for (auto _ : state) {
    auto d = OneCluster(*base->snapshot, round % base->clusters->size(), round);
    auto next = held->Apply(d).value();
    auto rt = Runtime::ApplyDelta(*base, next->base(), d);
    benchmark::DoNotOptimize(rt);
    ++round;
  }
}

// HeldConfig::Apply alone, chained (the overlay grows as deltas accumulate).
void BM_DeltaHeldMergeOnly(benchmark::State& state) {
  auto snapshot = World(static_cast<int>(state.range(0)));
  auto held = std::make_shared<const keel::dataplane::config::HeldConfig>(snapshot);
  int round = 0;
  for (auto _ : state) {
    v1::EndpointDelta d = OneCluster(*snapshot, (round * 7919) % snapshot->clusters_size(), round);
    d.set_base_version(held->version());
    held = held->Apply(d).value();
    ++round;
  }
  state.counters["overlaid"] = static_cast<double>(held->overlaid());
}

// A worker's swap: selectors for every cluster vs only the changed one.
void BM_WorkerSwap(benchmark::State& state, bool delta_path) {
  auto base = Runtime::Build(World(static_cast<int>(state.range(0)))).value();
  auto d = OneCluster(*base->snapshot, 7, 0);
  auto next = Runtime::ApplyDelta(*base, base->snapshot, d).value();
  keel::upstream::WorkerClusters w(1);
  w.Update(base->clusters);
  bool flip = false;
  for (auto _ : state) {
    const auto& table = flip ? base->clusters : next->clusters;
    if (delta_path)
      w.UpdateChanged(table, next->delta->changed_clusters);
    else
      w.Update(table);
    flip = !flip;
  }
}

BENCHMARK(BM_DeltaFullRebuild)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DeltaApply)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DeltaMergeOnly)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DeltaHeldApply)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DeltaHeldMergeOnly)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_WorkerSwap, full_update, false)->Arg(10000)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_WorkerSwap, update_changed, true)->Arg(10000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
