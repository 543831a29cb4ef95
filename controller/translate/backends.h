// Backend resolution shared by full translation and the endpoint fast path: rule
// backend → Service port → EndpointSlice port (by the Service port's name, or the
// numeric targetPort) → endpoints. Both paths call the same functions, so the fast path
// cannot drift from a full translation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "controller/store/objects.h"
#include "controller/store/store.h"
#include "keel/config/v1/config.pb.h"

namespace keel::translate {

struct ResolvedBackend {
  const store::Service* service = nullptr;
  const store::ServicePort* port = nullptr;
  std::string reason;  // set on failure: UnknownService, UnknownServicePort, ...
  std::string message;
  bool ok() const { return port != nullptr; }
};

ResolvedBackend ResolveBackend(const store::StoreView& view, const std::string& ns,
                               const store::IngressBackend& backend);

// The Service port with this number, or nullptr.
const store::ServicePort* FindServicePort(const store::Service& service, int32_t number);

// Endpoints for one Service port from its slices: ready or serving endpoints of IPv4 /
// IPv6 slices (FQDN slices are skipped), first address only, sorted by (address, port),
// duplicates across slices merged (ready/serving if any copy is, terminating if all are).
void BuildEndpoints(const store::SliceSet* slices, const store::ServicePort& port,
                    google::protobuf::RepeatedPtrField<config::v1::Endpoint>* out);

// appProtocol "kubernetes.io/h2c", "h2c" or "grpc" → H2C; anything else HTTP1.
config::v1::UpstreamProtocol ProtocolFor(const store::ServicePort& port);

// "namespace/service:port".
std::string ClusterBaseName(const std::string& ns, const std::string& service, int32_t port);
// Inverse of ClusterBaseName for names that may carry a "~variant" suffix.
bool ParseClusterName(std::string_view name, store::ObjectRef* service, int32_t* port);

}  // namespace keel::translate
