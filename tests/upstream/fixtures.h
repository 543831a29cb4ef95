// Small builders for upstream tests: proto clusters with N endpoints, a fake clock.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dataplane/upstream/cluster.h"
#include "keel/config/v1/config.pb.h"

namespace keel::upstream {
namespace cfg = keel::config::v1;
namespace fixtures {

inline cfg::Endpoint MakeEndpoint(const std::string& address, uint32_t port, uint32_t weight = 1,
                                  bool ready = true) {
  cfg::Endpoint e;
  e.set_address(address);
  e.set_port(port);
  e.set_weight(weight);
  e.set_ready(ready);
  e.set_serving(ready);
  return e;
}

// 10.0.<i/250>.<i%250+1>:8080 for i in [0, n), weights all 1 unless given.
inline cfg::Cluster MakeCluster(cfg::LbPolicy::Kind kind, int n, const std::vector<uint32_t>& weights = {}) {
  cfg::Cluster c;
  c.set_name("default/web:80");
  c.mutable_lb()->set_kind(kind);
  for (int i = 0; i < n; ++i) {
    const std::string addr = "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
    *c.add_endpoints() = MakeEndpoint(addr, 8080, weights.empty() ? 1 : weights[static_cast<size_t>(i)]);
  }
  return c;
}

inline std::shared_ptr<const ClusterRuntime> Runtime(const cfg::Cluster& c) {
  auto r = ClusterRuntime::Build(c);
  if (!r.ok()) return nullptr;
  return r.value();
}

constexpr uint64_t kMs = 1000000;

}  // namespace fixtures
}  // namespace keel::upstream
