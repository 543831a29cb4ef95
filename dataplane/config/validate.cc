// Snapshot structural validation and endpoint-delta application.
#include "dataplane/config/validate.h"

#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace keel::dataplane::config {
namespace {

namespace v1 = ::keel::config::v1;

Status ValidateRoutes(std::string_view where, const google::protobuf::RepeatedPtrField<v1::Route>& routes,
                      const std::unordered_set<std::string_view>& clusters) {
  for (int i = 0; i < routes.size(); ++i) {
    if (!routes[i].has_forward()) continue;
    const v1::ForwardAction& forward = routes[i].forward();
    if (forward.clusters().empty()) {
      return Error{"route " + std::to_string(i) + " of " + std::string(where) + ": forward names no cluster"};
    }
    for (const v1::WeightedCluster& wc : forward.clusters()) {
      if (!clusters.contains(wc.cluster())) {
        return Error{"route " + std::to_string(i) + " of " + std::string(where) + ": unknown cluster " +
                     wc.cluster()};
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Status ValidateEndpoints(std::string_view cluster,
                         const google::protobuf::RepeatedPtrField<v1::Endpoint>& eps) {
  for (int i = 0; i < eps.size(); ++i) {
    const v1::Endpoint& ep = eps[i];
    if (ep.address().empty() || ep.port() == 0 || ep.port() > 65535) {
      return Error{"cluster " + std::string(cluster) + " endpoint " + std::to_string(i) + ": bad address '" +
                   ep.address() + "' port " + std::to_string(ep.port())};
    }
  }
  return Status::Ok();
}

Status ValidateSnapshot(const v1::Snapshot& snapshot) {
  if (snapshot.version().empty()) return Error{"snapshot has no version"};

  std::unordered_set<std::string_view> certificates;
  for (const v1::Certificate& cert : snapshot.certificates()) {
    if (cert.name().empty() || !certificates.insert(cert.name()).second) {
      return Error{"certificate name empty or repeated: '" + cert.name() + "'"};
    }
  }
  if (!snapshot.default_certificate().empty() && !certificates.contains(snapshot.default_certificate())) {
    return Error{"default certificate " + snapshot.default_certificate() + " is not in the snapshot"};
  }

  std::unordered_set<std::string_view> clusters;
  for (const v1::Cluster& cluster : snapshot.clusters()) {
    if (cluster.name().empty() || !clusters.insert(cluster.name()).second) {
      return Error{"cluster name empty or repeated: '" + cluster.name() + "'"};
    }
    if (Status s = ValidateEndpoints(cluster.name(), cluster.endpoints()); !s) return s;
  }

  std::unordered_set<std::string_view> hosts;
  for (const v1::VirtualHost& vhost : snapshot.virtual_hosts()) {
    if (vhost.name().empty() || !hosts.insert(vhost.name()).second) {
      return Error{"virtual host name empty or repeated: '" + vhost.name() + "'"};
    }
    if (!vhost.certificate().empty() && !certificates.contains(vhost.certificate())) {
      return Error{"vhost " + vhost.name() + ": unknown certificate " + vhost.certificate()};
    }
    if (Status s = ValidateRoutes("vhost " + vhost.name(), vhost.routes(), clusters); !s) return s;
  }
  return ValidateRoutes("default routes", snapshot.default_routes(), clusters);
}

Result<std::shared_ptr<v1::Snapshot>> ApplyEndpointDelta(const v1::Snapshot& held,
                                                         const v1::EndpointDelta& delta) {
  if (delta.base_version() != held.version()) {
    return Error{"base version mismatch: delta base '" + delta.base_version() + "', holding '" +
                 held.version() + "'"};
  }
  if (delta.version().empty()) return Error{"endpoint delta has no version"};
  std::unordered_map<std::string_view, int> index;
  index.reserve(held.clusters_size());
  for (int i = 0; i < held.clusters_size(); ++i) index.emplace(held.clusters(i).name(), i);

  // The copy is the price of immutable snapshots: workers may still read `held`.
  auto next = std::make_shared<v1::Snapshot>(held);
  std::unordered_set<std::string_view> seen;
  for (const v1::ClusterEndpoints& change : delta.clusters()) {
    auto it = index.find(change.cluster());
    if (it == index.end()) return Error{"endpoint delta names unknown cluster " + change.cluster()};
    if (!seen.insert(change.cluster()).second) {
      return Error{"endpoint delta names cluster " + change.cluster() + " twice"};
    }
    if (Status s = ValidateEndpoints(change.cluster(), change.endpoints()); !s) return Error{s.error()};
    *next->mutable_clusters(it->second)->mutable_endpoints() = change.endpoints();
  }
  next->set_version(delta.version());
  next->set_built_at_unix_ms(delta.built_at_unix_ms());
  return next;
}

}  // namespace keel::dataplane::config
