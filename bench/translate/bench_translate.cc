// Translation benchmarks at 10k Ingresses / 10k Services / 10k EndpointSlices with 50k
// endpoints, generated in memory and loaded through the store's JSON path:
//   BM_FullTranslate         full Translate() of the world (target ≤ 200 ms); freeing
//                            the result is timed apart (counter free_ms)
//   BM_EndpointFastPath      UpdateEndpoints + ApplyEndpointUpdate for one changed
//                            slice (target ≤ 1 ms)
//   BM_EndpointChangeViaStore  the same plus the store side (parse the slice, Upsert,
//                            View with drained changes)
//   BM_SnapshotCopy          copying the whole snapshot, for scale
//   BM_ReconcileEndpointChange/overlay  one changed slice through the controller's
//                            Reconciler into the ConfigServer, endpoint-only changes
//                            published as an overlay on the shared snapshot (today)
//   BM_ReconcileEndpointChange/copy     the same with the snapshot copied and
//                            re-digested on every publish (before the overlay)
//   BM_IngressChange         one Ingress added (then removed) through the Reconciler into
//                            the ConfigServer: what bench scenario 6 measures per change
//                            on the controller side (full translation + publish)
// Counters: rss_mb_world is VmRSS after building the store (objects parsed, JSON
// freed); rss_mb_translated with one translation result held as well.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "controller/app/reconciler.h"
#include "controller/serve/config_server.h"
#include "controller/store/store.h"
#include "controller/translate/translate.h"

namespace {

using keel::store::Kind;
using nlohmann::json;

constexpr int kIngresses = 10000;
constexpr int kEndpointsPerService = 5;

// VmRSS after malloc_trim(0), so that memory glibc keeps from freed temporaries (the
// generated JSON) does not count as the world's.
double RssMb() {
  malloc_trim(0);
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

json Slice(int i, int generation) {
  const std::string svc = "svc" + std::to_string(i);
  json eps = json::array();
  for (int e = 0; e < kEndpointsPerService; ++e) {
    const bool ready = !(e == 4 && generation % 2 == 1);  // the fast path flips one endpoint
    eps.push_back(
        {{"addresses",
          {"10." + std::to_string(i / 250) + "." + std::to_string(i % 250) + "." + std::to_string(e + 1)}},
         {"conditions", {{"ready", ready}, {"serving", true}, {"terminating", !ready}}},
         {"zone", "zone-" + std::to_string(e % 3)},
         {"targetRef", {{"kind", "Pod"}, {"name", svc + "-pod-" + std::to_string(e)}}}});
  }
  return {{"metadata",
           {{"namespace", "ns" + std::to_string(i % 50)},
            {"name", svc + "-abcde"},
            {"labels", {{"kubernetes.io/service-name", svc}}}}},
          {"addressType", "IPv4"},
          {"ports", {{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}}},
          {"endpoints", eps}};
}

struct World {
  keel::store::Store store;
  keel::translate::TranslateOptions options;
  keel::translate::TranslateResult result;
  double rss_world = 0;
  double rss_translated = 0;
  std::vector<int> flips = std::vector<int>(kIngresses, 0);  // per service, so every change is a real one

  World() {
    std::vector<json> classes{
        {{"metadata", {{"name", "keel"}}}, {"spec", {{"controller", options.controller_class}}}}};
    std::vector<json> services, slices, ingresses;
    for (int i = 0; i < kIngresses; ++i) {
      const std::string ns = "ns" + std::to_string(i % 50);
      const std::string svc = "svc" + std::to_string(i);
      services.push_back({{"metadata", {{"namespace", ns}, {"name", svc}}},
                          {"spec", {{"ports", {{{"name", "http"}, {"port", 80}, {"targetPort", 8080}}}}}}});
      slices.push_back(Slice(i, 0));
      json ann = json::object();
      if (i % 4 == 1) ann["nginx.ingress.kubernetes.io/rewrite-target"] = "/";
      if (i % 8 == 2) ann["nginx.ingress.kubernetes.io/proxy-body-size"] = "8m";
      if (i % 16 == 3) ann["keel.dev/load-balance"] = "least_request";
      json backend = {{"service", {{"name", svc}, {"port", {{"number", 80}}}}}};
      json paths = {{{"path", "/"}, {"pathType", "Prefix"}, {"backend", backend}},
                    {{"path", "/api/v1"}, {"pathType", "Prefix"}, {"backend", backend}},
                    {{"path", "/healthz"}, {"pathType", "Exact"}, {"backend", backend}}};
      if (i % 10 == 0)
        paths.push_back(
            {{"path", "/items/[0-9]+"}, {"pathType", "ImplementationSpecific"}, {"backend", backend}});
      ingresses.push_back(
          {{"metadata",
            {{"namespace", ns},
             {"name", "ing" + std::to_string(i)},
             {"creationTimestamp", "2026-01-01T00:00:00Z"},
             {"annotations", ann}}},
           {"spec",
            {{"ingressClassName", "keel"},
             {"rules",
              {{{"host", "app" + std::to_string(i) + ".example.test"}, {"http", {{"paths", paths}}}}}}}}});
    }
    store.Replace(Kind::IngressClass, classes);
    store.Replace(Kind::Service, services);
    store.Replace(Kind::EndpointSlice, slices);
    store.Replace(Kind::Ingress, ingresses);
    services.clear();
    slices.clear();
    ingresses.clear();
    rss_world = RssMb();
    keel::store::StoreChanges drained;
    result = keel::translate::Translate(store.View(&drained), options);
    rss_translated = RssMb();
  }
};

World& TheWorld() {
  static World* w = new World();
  return *w;
}

void BM_FullTranslate(benchmark::State& state) {
  World& w = TheWorld();
  keel::store::StoreView view = w.store.View();
  double free_ms = 0;
  for (auto _ : state) {
    auto r = std::make_unique<keel::translate::TranslateResult>(keel::translate::Translate(view, w.options));
    benchmark::DoNotOptimize(r->snapshot.version());
    // Freeing the previous result is the caller's business (it can happen off the
    // translation path); it is measured and reported apart as free_ms.
    state.PauseTiming();
    auto t0 = std::chrono::steady_clock::now();
    r.reset();
    free_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    state.ResumeTiming();
  }
  state.counters["free_ms"] = free_ms / static_cast<double>(state.iterations());
  state.counters["ingresses"] = kIngresses;
  state.counters["endpoints"] = kIngresses * kEndpointsPerService;
  state.counters["clusters"] = w.result.snapshot.clusters_size();
  state.counters["rss_mb_world"] = w.rss_world;
  state.counters["rss_mb_translated"] = w.rss_translated;
}
BENCHMARK(BM_FullTranslate)->Unit(benchmark::kMillisecond)->MinTime(2.0);

void BM_EndpointFastPath(benchmark::State& state) {
  World& w = TheWorld();
  int i = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const int svc = (i++ * 7919) % kIngresses;
    w.store.Upsert(Kind::EndpointSlice, Slice(svc, ++w.flips[svc]));
    keel::store::StoreChanges changes;
    keel::store::StoreView view = w.store.View(&changes);
    std::vector<keel::store::ObjectRef> services(changes.endpoint_services.begin(),
                                                 changes.endpoint_services.end());
    state.ResumeTiming();
    keel::translate::EndpointUpdate u = keel::translate::UpdateEndpoints(view, w.result, services);
    keel::translate::ApplyEndpointUpdate(u, &w.result);
    if (u.delta.clusters_size() != 1) {
      state.SkipWithError(("expected one changed cluster, got " + std::to_string(u.delta.clusters_size()) +
                           (u.needs_full_translation ? " (needs full)" : ""))
                              .c_str());
      break;
    }
  }
}
BENCHMARK(BM_EndpointFastPath)->Unit(benchmark::kMicrosecond);

void BM_EndpointChangeViaStore(benchmark::State& state) {
  World& w = TheWorld();
  int i = 0;
  for (auto _ : state) {
    const int svc = (i++ * 104729) % kIngresses;
    w.store.Upsert(Kind::EndpointSlice, Slice(svc, ++w.flips[svc]));
    keel::store::StoreChanges changes;
    keel::store::StoreView view = w.store.View(&changes);
    std::vector<keel::store::ObjectRef> services(changes.endpoint_services.begin(),
                                                 changes.endpoint_services.end());
    keel::translate::EndpointUpdate u = keel::translate::UpdateEndpoints(view, w.result, services);
    keel::translate::ApplyEndpointUpdate(u, &w.result);
  }
}
BENCHMARK(BM_EndpointChangeViaStore)->Unit(benchmark::kMicrosecond);

void BM_SnapshotCopy(benchmark::State& state) {
  World& w = TheWorld();
  for (auto _ : state) {
    keel::config::v1::Snapshot copy = w.result.snapshot;
    benchmark::DoNotOptimize(copy.clusters_size());
  }
}
BENCHMARK(BM_SnapshotCopy)->Unit(benchmark::kMillisecond);

// The whole controller path of one EndpointSlice change, store to config server.
// Arg 1: endpoint-only changes go to PublishEndpointDelta (shared snapshot + overlay);
// arg 0: every publish copies the snapshot and the server digests it in full.
void BM_ReconcileEndpointChange(benchmark::State& state) {
  World& w = TheWorld();
  keel::serve::ConfigServer server;  // not started: Publish still builds its entries
  keel::controller::Reconciler reconciler(
      &w.store, w.options,
      [&](std::shared_ptr<const keel::config::v1::Snapshot> s) { server.Publish(std::move(s)); },
      [] { return int64_t{1}; });
  if (state.range(0) == 1) {
    reconciler.SetPublishDelta(
        [&](const keel::config::v1::EndpointDelta& d) { return server.PublishEndpointDelta(d); });
  }
  reconciler.Reconcile();  // the first pass is a full translation: not timed
  int i = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const int svc = (i++ * 6007) % kIngresses;
    w.store.Upsert(Kind::EndpointSlice, Slice(svc, ++w.flips[svc]));
    state.ResumeTiming();
    reconciler.Reconcile();
  }
  if (reconciler.full_translations() != 1) state.SkipWithError("an endpoint change took the full path");
  state.counters["fast_path_passes"] = static_cast<double>(reconciler.endpoint_updates());
}
BENCHMARK(BM_ReconcileEndpointChange)->ArgName("overlay")->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

// A structural change (a new Ingress for an existing Service) from the store to the
// config server: the controller's share of scenario 6's change → routable.
void BM_IngressChange(benchmark::State& state) {
  World& w = TheWorld();
  keel::serve::ConfigServer server;  // not started: Publish still digests the snapshot
  keel::controller::Reconciler reconciler(
      &w.store, w.options,
      [&](std::shared_ptr<const keel::config::v1::Snapshot> s) { server.Publish(std::move(s)); },
      [] { return int64_t{1}; });
  reconciler.SetPublishDelta(
      [&](const keel::config::v1::EndpointDelta& d) { return server.PublishEndpointDelta(d); });
  reconciler.Reconcile();  // the first pass: not timed
  int i = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string name = "change" + std::to_string(i % 2);
    if (i++ % 4 < 2) {
      json backend = {{"service", {{"name", "svc7"}, {"port", {{"number", 80}}}}}};
      w.store.Upsert(Kind::Ingress,
                     {{"metadata",
                       {{"namespace", "ns7"}, {"name", name}, {"creationTimestamp", "2026-02-01T00:00:00Z"}}},
                      {"spec",
                       {{"ingressClassName", "keel"},
                        {"rules",
                         {{{"host", name + ".example.test"},
                           {"http", {{"paths", {{{"path", "/"}, {"pathType", "Prefix"}, {"backend", backend}}}}}}}}}}}});
    } else {
      w.store.Remove(Kind::Ingress, "ns7", name);
    }
    state.ResumeTiming();
    reconciler.Reconcile();
  }
  state.counters["full_translations"] = static_cast<double>(reconciler.full_translations());
}
BENCHMARK(BM_IngressChange)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
