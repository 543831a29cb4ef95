// Runtime: everything a worker needs from one snapshot, compiled once on the config
// thread and then shared read-only by all workers (route table, cluster table, the
// snapshot itself for the config dump). Building it is the validation step: a
// snapshot that does not compile is NACKed and the previous Runtime keeps serving.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/result.h"
#include "dataplane/http1/parser.h"
#include "dataplane/proxy/access_list.h"
#include "dataplane/proxy/decision.h"
#include "dataplane/router/route_table.h"
#include "dataplane/upstream/cluster.h"
#include "keel/config/v1/config.pb.h"

namespace keel::tls {
class CertStore;
}

namespace keel::proxy {

class Runtime {
 public:
  // `previous` (may be null) lets unchanged clusters be shared instead of rebuilt.
  static Result<std::shared_ptr<const Runtime>> Build(std::shared_ptr<const config::v1::Snapshot> snapshot,
                                                      const Runtime* previous = nullptr);
  // An endpoint delta against `base` (its version must be the delta's base): shares
  // the route table and access lists and rebuilds only the clusters the delta names.
  // `merged` becomes `snapshot`: base's snapshot with or without the delta applied
  // (the dataplane passes base's, shared: only endpoints differ, and those are read
  // from `clusters`).
  static Result<std::shared_ptr<const Runtime>> ApplyDelta(const Runtime& base,
                                                           std::shared_ptr<const config::v1::Snapshot> merged,
                                                           const config::v1::EndpointDelta& delta);

  // Host → virtual host → route → decision. `random` splits weighted clusters.
  void Route(const http1::RequestHead& head, std::string_view client_ip, uint64_t random,
             RouteDecision* out) const;
  // The balancer inputs of `cluster` for this request: hash key and sticky cookie value.
  void HashInputs(const http1::RequestHead& head, uint32_t cluster, std::string_view client_ip,
                  std::string* hash_key, std::string* sticky) const;

  const std::string& version() const { return delta ? delta->version : snapshot->version(); }

  std::shared_ptr<const config::v1::Snapshot> snapshot;
  std::shared_ptr<const router::RouteTable> routes;
  std::shared_ptr<const upstream::ClusterTable> clusters;
  // Parsed allow/deny lists of the routes that have one (shared across deltas, as
  // the routes they are keyed by).
  using AccessMap = std::unordered_map<const router::RouteEntry*, AccessList>;
  std::shared_ptr<const AccessMap> access;

  // Set when this runtime came from an endpoint delta: what a worker holding the base
  // runtime must refresh (the changed clusters) and which endpoints left them (their
  // idle upstream connections are closed).
  struct Delta {
    std::string base_version;
    std::string version;
    std::vector<uint32_t> changed_clusters;
    std::unordered_set<std::string> removed_endpoints;  // Endpoint keys
  };
  std::shared_ptr<const Delta> delta;
  // TLS certificates by SNI; a certificate that does not parse is left out (logged),
  // never NACKed: the other hosts keep their TLS.
  std::shared_ptr<const tls::CertStore> certs;
};

}  // namespace keel::proxy
