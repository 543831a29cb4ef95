// Parsers from the API's JSON to the typed objects of objects.h. They never throw: a
// malformed object yields an Error naming the offending field ("spec.rules[0].host:
// expected a string"), which the store turns into a per-object rejection.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "common/result.h"
#include "controller/store/objects.h"

namespace keel::store {

// metadata.namespace / metadata.name, enough to name a rejected object. Fails when the
// object has no string metadata.name.
Result<ObjectRef> ParseRef(const nlohmann::json& object);

Result<Ingress> ParseIngress(const nlohmann::json& object);
Result<IngressClass> ParseIngressClass(const nlohmann::json& object);
Result<Service> ParseService(const nlohmann::json& object);
Result<EndpointSlice> ParseEndpointSlice(const nlohmann::json& object);

// A Secret is either a TLS secret (kept, PEM decoded from `data`, or from `stringData`
// as written in a manifests folder; stringData wins per key as on the API server) or
// of another type: then its type is reported, and only for type Opaque its password
// hashes are kept (htpasswd lines of the `auth` key, values that are hashes; anything
// else is replaced by kNotAHash), never other secret material.
struct SecretParse {
  std::optional<TlsSecret> tls;
  ObjectRef ref;
  OtherSecret other;  // set when tls is empty
};
Result<SecretParse> ParseSecret(const nlohmann::json& object);

}  // namespace keel::store
