// Object builders for property tests (see world.h).
#include "tests/translate/world.h"

namespace keel::translate::testing {

using nlohmann::json;

json IngressClassJson(const std::string& name, const std::string& controller) {
  return {{"metadata", {{"name", name}}}, {"spec", {{"controller", controller}}}};
}

json ServiceJson(const std::string& ns, const std::string& name, int port, int target_port) {
  return {{"metadata", {{"namespace", ns}, {"name", name}}},
          {"spec", {{"ports", {{{"name", "http"}, {"port", port}, {"targetPort", target_port}}}}}}};
}

json SliceJson(const std::string& ns, const std::string& name, const std::string& service, int port,
               const std::vector<std::string>& ready_ips, const std::vector<std::string>& terminating_ips) {
  json eps = json::array();
  for (const std::string& ip : ready_ips) {
    eps.push_back(
        {{"addresses", {ip}}, {"conditions", {{"ready", true}, {"serving", true}, {"terminating", false}}}});
  }
  for (const std::string& ip : terminating_ips) {
    eps.push_back(
        {{"addresses", {ip}}, {"conditions", {{"ready", false}, {"serving", true}, {"terminating", true}}}});
  }
  return {{"metadata",
           {{"namespace", ns}, {"name", name}, {"labels", {{"kubernetes.io/service-name", service}}}}},
          {"addressType", "IPv4"},
          {"ports", {{{"name", "http"}, {"port", port}}}},
          {"endpoints", eps}};
}

json IngressJson(const std::string& ns, const std::string& name, const std::string& host,
                 const std::vector<std::string>& paths, const std::string& service, int port,
                 const std::string& created, const json& annotations) {
  json jpaths = json::array();
  for (const std::string& p : paths) {
    bool regex = p.find_first_of("[(*") != std::string::npos;
    jpaths.push_back({{"path", p},
                      {"pathType", regex ? "ImplementationSpecific" : "Prefix"},
                      {"backend", {{"service", {{"name", service}, {"port", {{"number", port}}}}}}}});
  }
  return {
      {"metadata",
       {{"namespace", ns}, {"name", name}, {"creationTimestamp", created}, {"annotations", annotations}}},
      {"spec", {{"ingressClassName", "keel"}, {"rules", {{{"host", host}, {"http", {{"paths", jpaths}}}}}}}}};
}

std::vector<Object> VariedWorld(int n) {
  std::vector<Object> out;
  out.push_back({store::Kind::IngressClass, IngressClassJson("keel", "keel.dev/ingress-controller")});
  for (int i = 0; i < n; ++i) {
    const std::string ns = "ns" + std::to_string(i % 4);
    const std::string svc = "svc" + std::to_string(i);
    const std::string octet = std::to_string(i % 250);
    out.push_back({store::Kind::Service, ServiceJson(ns, svc, 80, 8080)});
    out.push_back({store::Kind::EndpointSlice,
                   SliceJson(ns, svc + "-a", svc, 8080, {"10.1." + octet + ".1", "10.1." + octet + ".2"},
                             {"10.1." + octet + ".3"})});
    out.push_back(
        {store::Kind::EndpointSlice, SliceJson(ns, svc + "-b", svc, 8080, {"10.2." + octet + ".1"})});
    json ann = json::object();
    if (i % 5 == 1) ann["nginx.ingress.kubernetes.io/rewrite-target"] = "/";
    if (i % 5 == 2) ann["keel.dev/load-balance"] = "least_request";
    if (i % 5 == 3) ann["nginx.ingress.kubernetes.io/whitelist-source-range"] = "10.0.0.0/8";
    // Every third Ingress shares a host with its predecessor (same path: a conflict
    // decided by the namespace/name tiebreak, since timestamps are equal).
    const std::string host = "h" + std::to_string(i - (i % 3 == 2 ? 1 : 0)) + ".example.test";
    out.push_back({store::Kind::Ingress, IngressJson(ns, "ing" + std::to_string(i), host,
                                                     {"/", "/api/v" + std::to_string(i % 3), "/re/[a-z]+"},
                                                     svc, 80, "2026-01-01T00:00:00Z", ann)});
    if (i % 10 == 4) {
      json canary = {{"nginx.ingress.kubernetes.io/canary", "true"},
                     {"nginx.ingress.kubernetes.io/canary-weight", "25"}};
      out.push_back({store::Kind::Ingress, IngressJson(ns, "canary" + std::to_string(i), host, {"/"}, "svc0",
                                                       80, "2026-01-02T00:00:00Z", canary)});
    }
  }
  return out;
}

}  // namespace keel::translate::testing
