// Structural checks on a received snapshot and the endpoint-delta merge, run by the
// config client before it hands anything to ApplyFn. Pure functions, no gRPC.
//
// Checked here (cheap, and a violation would make any later stage misbehave):
//   version set; virtual host, cluster and certificate names non-empty and unique;
//   every forward route names ≥1 cluster and only existing ones; certificate
//   references resolve; endpoints have an address and a port in 1..65535.
// Left to ApplyFn (the router/TLS compilers, which parse these anyway): RE2 syntax of
// regex paths and header matches, CIDR syntax, redirect status codes, PEM parsing.
#pragma once

#include <memory>
#include <string_view>

#include "common/result.h"
#include "keel/config/v1/config.pb.h"

namespace keel::dataplane::config {

Status ValidateSnapshot(const keel::config::v1::Snapshot& snapshot);

// Every endpoint has an address and a port in 1..65535 (`cluster` names it in the error).
Status ValidateEndpoints(std::string_view cluster,
                         const google::protobuf::RepeatedPtrField<keel::config::v1::Endpoint>& endpoints);

// `held` with the delta's clusters' endpoint lists replaced and its version and
// built_at set: a copy of the whole snapshot. The config client uses HeldConfig::Apply
// (held_config.h), which shares it; this stays as the reference it is tested against. Errors (→ NACK):
// base_version differs from held.version() ("base version mismatch"), an unknown or repeated cluster, an
// invalid endpoint.
Result<std::shared_ptr<keel::config::v1::Snapshot>> ApplyEndpointDelta(
    const keel::config::v1::Snapshot& held, const keel::config::v1::EndpointDelta& delta);

}  // namespace keel::dataplane::config
