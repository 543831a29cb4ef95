// Route matching cost from 1 to 10k virtual hosts / routes (after Envoy's
// config_impl_speed_test), path normalisation, and one balancer pick per LB policy.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "dataplane/router/path.h"
#include "dataplane/router/route_table.h"
#include "dataplane/upstream/selector.h"

namespace {

namespace cfg = keel::config::v1;
using keel::router::NoHeaders;
using keel::router::RouteTable;

cfg::Route Route(cfg::RouteMatch::PathKind kind, const std::string& path) {
  cfg::Route r;
  r.mutable_match()->set_path_kind(kind);
  r.mutable_match()->set_path(path);
  r.mutable_forward()->add_clusters()->set_cluster("default/web:80");
  return r;
}

std::shared_ptr<const RouteTable> Table(int vhosts, int routes_per_vhost) {
  cfg::Snapshot s;
  s.add_clusters()->set_name("default/web:80");
  for (int v = 0; v < vhosts; ++v) {
    auto* vh = s.add_virtual_hosts();
    vh->set_name("host" + std::to_string(v) + ".example.com");
    for (int r = 0; r < routes_per_vhost - 1; ++r) {
      *vh->add_routes() = Route(cfg::RouteMatch::PREFIX, "/r" + std::to_string(r));
    }
    *vh->add_routes() = Route(cfg::RouteMatch::PREFIX, "/api/v1");
  }
  *s.add_default_routes() = Route(cfg::RouteMatch::PREFIX, "/");
  return RouteTable::Build(s).value();
}

// Many vhosts, 5 routes each; every request hits the last route of a different host
// given as a client would send it (mixed case, with port).
void BM_MatchManyVhosts(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  auto table = Table(n, 5);
  std::vector<std::string> hosts;
  for (int v = 0; v < std::min(n, 1024); ++v)
    hosts.push_back("Host" + std::to_string(v) + ".Example.com:443");
  size_t i = 0;
  for (auto _ : state) {
    const auto* e = table->Match(hosts[i++ % hosts.size()], "/api/v1/users?id=7", NoHeaders());
    benchmark::DoNotOptimize(e);
  }
}
BENCHMARK(BM_MatchManyVhosts)->Arg(1)->Arg(100)->Arg(10000);

// One vhost with many routes; the request matches the last one (a linear scan's worst case).
void BM_MatchManyRoutesWorstCase(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  auto table = Table(1, n);
  for (auto _ : state) {
    const auto* e = table->Match("host0.example.com", "/api/v1/users", NoHeaders());
    benchmark::DoNotOptimize(e);
  }
}
BENCHMARK(BM_MatchManyRoutesWorstCase)->Arg(1)->Arg(100)->Arg(10000);

void BM_MatchRegexRoute(benchmark::State& state) {
  cfg::Snapshot s;
  s.add_clusters()->set_name("default/web:80");
  auto* vh = s.add_virtual_hosts();
  vh->set_name("h.test");
  *vh->add_routes() = Route(cfg::RouteMatch::REGEX, "/api/v[0-9]+/users/[0-9]+");
  auto table = RouteTable::Build(s).value();
  for (auto _ : state) {
    const auto* e = table->Match("h.test", "/api/v2/users/12345/orders", NoHeaders());
    benchmark::DoNotOptimize(e);
  }
}
BENCHMARK(BM_MatchRegexRoute);

void BM_NormalizePath(benchmark::State& state) {
  std::string out;
  for (auto _ : state) {
    auto st = keel::router::NormalizePath("/api/v1/../v2/%7Euser/./items?x=1", &out);
    benchmark::DoNotOptimize(st);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_NormalizePath);

// One pick + request bracket over 100 endpoints for each policy.
void BM_Pick(benchmark::State& state) {
  cfg::Cluster c;
  c.set_name("default/web:80");
  c.mutable_lb()->set_kind(static_cast<cfg::LbPolicy::Kind>(state.range(0)));
  for (int i = 0; i < 100; ++i) {
    auto* e = c.add_endpoints();
    e->set_address("10.0.0." + std::to_string(i + 1));
    e->set_port(8080);
    e->set_weight(state.range(1) != 0 ? 1 + i % 3 : 1);
    e->set_ready(true);
  }
  keel::upstream::ClusterSelector sel(keel::upstream::ClusterRuntime::Build(c).value(), 1);
  keel::upstream::PickContext ctx;
  ctx.hash_key = "203.0.113.7";
  uint64_t now = 0;
  for (auto _ : state) {
    ctx.now_ns = now += 1000;
    const auto idx = sel.Pick(ctx);
    auto t = sel.OnRequestStart(*idx);
    sel.OnRequestEnd(t, 1000000, keel::upstream::Outcome::kSuccess, now);
  }
  state.SetLabel(cfg::LbPolicy::Kind_Name(c.lb().kind()) + (state.range(1) != 0 ? " weighted" : ""));
}
BENCHMARK(BM_Pick)
    ->Args({cfg::LbPolicy::ROUND_ROBIN, 0})
    ->Args({cfg::LbPolicy::ROUND_ROBIN, 1})
    ->Args({cfg::LbPolicy::RANDOM, 1})
    ->Args({cfg::LbPolicy::LEAST_REQUEST, 0})
    ->Args({cfg::LbPolicy::PEAK_EWMA, 0})
    ->Args({cfg::LbPolicy::RING_HASH, 0})
    ->Args({cfg::LbPolicy::MAGLEV, 0});

}  // namespace

BENCHMARK_MAIN();
