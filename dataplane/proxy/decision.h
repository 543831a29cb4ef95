// RouteDecision: what the router decided for one request, in the terms the proxy
// acts on. dispatch.cc fills it from the compiled RouteTable so that the
// connection code does not depend on the router's internals.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace keel::config::v1 {
class Route;
class RoutePolicy;
}

namespace keel::proxy {

struct RouteLabels {
  // Stable strings owned by the runtime; used for metrics and access logs.
  std::string_view namespace_, ingress, service;
};

struct RouteDecision {
  enum class Kind { kNotFound, kDirect, kRedirect, kForward, kNoEndpoints };
  Kind kind = Kind::kNotFound;
  // kDirect / kRedirect / kNoEndpoints
  int status = 404;
  std::string body;          // kDirect
  std::string content_type;  // kDirect
  std::string location;      // kRedirect
  // kForward
  uint32_t cluster = 0;               // index in the worker's cluster table
  std::string upstream_path;          // path+query to send (rewritten or as received)
  std::string host_override;          // empty: keep the client's Host
  uint32_t timeout_ms = 0;            // per-try response-header timeout; 0: cluster default
  const keel::config::v1::RoutePolicy* policy = nullptr;
  RouteLabels labels;
};

}  // namespace keel::proxy
