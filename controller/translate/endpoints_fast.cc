// The endpoint fast path: when only EndpointSlices changed, recompute the endpoint
// lists of the affected clusters and re-version the snapshot from cached digests,
// instead of rebuilding the whole model (Contour's internal/xdscache endpoint path is
// the model). The result is byte-identical to a full Translate() of the same view.
#include <algorithm>

#include "controller/translate/backends.h"
#include "controller/translate/translate.h"
#include "controller/translate/version.h"

namespace keel::translate {

EndpointUpdate UpdateEndpoints(const store::StoreView& view, const TranslateResult& prev,
                               const std::vector<store::ObjectRef>& changed_services) {
  EndpointUpdate u;
  const config::v1::Snapshot& snap = prev.snapshot;
  u.delta.set_base_version(snap.version());
  u.delta.set_version(snap.version());
  const auto& clusters = snap.clusters();
  if (prev.digests.clusters.size() != static_cast<size_t>(clusters.size())) {
    u.needs_full_translation = true;  // not a Translate() result: no digests to build on
    return u;
  }
  std::vector<store::ObjectRef> services = changed_services;
  std::sort(services.begin(), services.end());
  services.erase(std::unique(services.begin(), services.end()), services.end());

  for (const store::ObjectRef& svc : services) {
    const std::string prefix = svc.ns + "/" + svc.name + ":";
    auto it =
        std::lower_bound(clusters.begin(), clusters.end(), prefix,
                         [](const config::v1::Cluster& c, const std::string& p) { return c.name() < p; });
    for (; it != clusters.end() && it->name().compare(0, prefix.size(), prefix) == 0; ++it) {
      store::ObjectRef ref;
      int32_t port = 0;
      if (!ParseClusterName(it->name(), &ref, &port)) continue;
      const store::Service* service = view.FindService(svc);
      const store::ServicePort* sp = service == nullptr ? nullptr : FindServicePort(*service, port);
      if (sp == nullptr || service->spec.type == "ExternalName") {
        EndpointUpdate full;
        full.delta.set_base_version(snap.version());
        full.delta.set_version(snap.version());
        full.needs_full_translation = true;
        return full;
      }
      config::v1::Cluster updated;
      BuildEndpoints(view.FindSlices(svc), *sp, updated.mutable_endpoints());
      // Digest of the cluster as a full translation would emit it: same fields, new endpoints.
      config::v1::Cluster probe = *it;
      probe.mutable_endpoints()->Swap(updated.mutable_endpoints());
      Digest d = Hash128(DeterministicBytes(probe));
      const int index = static_cast<int>(it - clusters.begin());
      if (d == prev.digests.clusters[index]) continue;
      config::v1::ClusterEndpoints* ce = u.delta.add_clusters();
      ce->set_cluster(it->name());
      ce->mutable_endpoints()->Swap(probe.mutable_endpoints());
      u.cluster_indexes.push_back(index);
      u.cluster_digests.push_back(d);
    }
  }
  if (u.cluster_indexes.empty()) return u;
  u.delta.set_version(VersionFromDigests(prev.digests, u.cluster_indexes, u.cluster_digests));
  return u;
}

bool ApplyEndpointUpdate(const EndpointUpdate& update, TranslateResult* result) {
  if (update.needs_full_translation || update.delta.base_version() != result->snapshot.version() ||
      result->digests.clusters.size() != static_cast<size_t>(result->snapshot.clusters_size())) {
    return false;
  }
  for (size_t k = 0; k < update.cluster_indexes.size(); ++k) {
    const int index = update.cluster_indexes[k];
    *result->snapshot.mutable_clusters(index)->mutable_endpoints() =
        update.delta.clusters(static_cast<int>(k)).endpoints();
    result->digests.clusters[index] = update.cluster_digests[k];
  }
  result->snapshot.set_version(update.delta.version());
  return true;
}

}  // namespace keel::translate
