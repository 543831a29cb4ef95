// Builders for Kubernetes object JSON used by the property tests: small enough to read
// in a test, shaped exactly like the API's objects.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "controller/store/sink.h"

namespace keel::translate::testing {

struct Object {
  store::Kind kind;
  nlohmann::json json;
};

nlohmann::json IngressClassJson(const std::string& name, const std::string& controller);
nlohmann::json ServiceJson(const std::string& ns, const std::string& name, int port, int target_port);
nlohmann::json SliceJson(const std::string& ns, const std::string& name, const std::string& service, int port,
                         const std::vector<std::string>& ready_ips,
                         const std::vector<std::string>& terminating_ips = {});
// One rule per host, each path Prefix to service:port; annotations optional.
nlohmann::json IngressJson(const std::string& ns, const std::string& name, const std::string& host,
                           const std::vector<std::string>& paths, const std::string& service, int port,
                           const std::string& created = "2026-01-01T00:00:00Z",
                           const nlohmann::json& annotations = nlohmann::json::object());

// A varied world: `n` Ingresses (hosts, regexes, annotations, canaries, conflicts with
// equal timestamps, a TLS host), their Services and EndpointSlices.
std::vector<Object> VariedWorld(int n);

}  // namespace keel::translate::testing
