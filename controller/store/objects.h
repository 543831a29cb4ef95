// Typed Kubernetes objects as the store keeps them: only the fields translation reads,
// plus identity metadata. Parsed from the API's JSON by parse.h; immutable once stored
// (the store hands out shared_ptr<const T>).
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel::store {

// Namespace + name. Cluster-scoped objects (IngressClass) have an empty namespace.
struct ObjectRef {
  std::string ns;
  std::string name;
  auto operator<=>(const ObjectRef&) const = default;
  bool operator==(const ObjectRef&) const = default;
  std::string str() const { return ns.empty() ? name : ns + "/" + name; }
};

struct ObjectMeta {
  std::string ns;
  std::string name;
  std::string uid;
  std::string resource_version;
  std::string creation_timestamp;  // RFC 3339 as the API writes it ("2026-11-23T08:32:25Z")
  int64_t generation = 0;
  // kubectl's last-applied-configuration is dropped at parse time: it repeats the whole
  // object and would double the store's memory at 10k Ingresses.
  std::map<std::string, std::string> annotations;
  std::map<std::string, std::string> labels;

  ObjectRef ref() const { return {ns, name}; }
  bool operator==(const ObjectMeta&) const = default;
};

// ─── networking.k8s.io/v1 ───

struct IngressBackend {
  // Service backend; port is either a number (port_number > 0) or a name.
  std::string service_name;
  std::string port_name;
  int32_t port_number = 0;
  // Resource backend (spec says: apiGroup/kind/name); translation rejects it.
  bool is_resource = false;
  std::string resource_kind;
  std::string resource_name;
  bool operator==(const IngressBackend&) const = default;
};

struct IngressPath {
  std::string path;       // may be empty (ImplementationSpecific)
  std::string path_type;  // "Exact", "Prefix", "ImplementationSpecific"; empty if absent
  IngressBackend backend;
  bool operator==(const IngressPath&) const = default;
};

struct IngressRule {
  std::string host;  // as written; empty: every host
  bool has_http = false;
  std::vector<IngressPath> paths;
  bool operator==(const IngressRule&) const = default;
};

struct IngressTls {
  std::vector<std::string> hosts;
  std::string secret_name;
  bool operator==(const IngressTls&) const = default;
};

struct LoadBalancerIngress {
  std::string ip;
  std::string hostname;
  bool operator==(const LoadBalancerIngress&) const = default;
};

struct IngressSpec {
  std::optional<std::string> ingress_class_name;
  std::optional<IngressBackend> default_backend;
  std::vector<IngressRule> rules;
  std::vector<IngressTls> tls;
  bool operator==(const IngressSpec&) const = default;
};

struct Ingress {
  ObjectMeta meta;
  IngressSpec spec;
  // status.loadBalancer.ingress: kept for the status writer; not read by translation.
  std::vector<LoadBalancerIngress> status;
};

struct IngressClass {
  ObjectMeta meta;
  std::string controller;
  bool is_default = false;  // ingressclass.kubernetes.io/is-default-class == "true"
};

// ─── core/v1 ───

struct ServicePort {
  std::string name;
  int32_t port = 0;
  // targetPort: a number (target_port_number > 0) or a container port name.
  int32_t target_port_number = 0;
  std::string target_port_name;
  std::string protocol;  // "TCP" when absent
  std::string app_protocol;
  bool operator==(const ServicePort&) const = default;
};

struct ServiceSpec {
  std::string type;  // "ClusterIP" when absent
  std::string cluster_ip;
  std::string external_name;
  std::vector<ServicePort> ports;
  bool operator==(const ServiceSpec&) const = default;
};

struct Service {
  ObjectMeta meta;
  ServiceSpec spec;
};

// Secrets of type kubernetes.io/tls, PEM bytes decoded.
struct TlsSecret {
  ObjectMeta meta;
  std::string cert_pem;
  std::string key_pem;
  bool operator==(const TlsSecret&) const = default;
};

// Any other Secret: its type, and for type Opaque the part of its data basic auth
// (auth-secret) can use: password hashes only (parse.h says how). Service-account
// tokens, Helm releases, registry credentials and every other type keep no data.
inline constexpr std::string_view kNotAHash = "<not a supported hash>";
struct OtherSecret {
  std::string type;
  std::map<std::string, std::string> data;
  bool operator==(const OtherSecret&) const = default;
};

// ─── discovery.k8s.io/v1 ───

struct EndpointPort {
  std::string name;
  std::optional<int32_t> port;  // nil: "all ports" (translation then needs a numeric targetPort)
  std::string app_protocol;
  bool operator==(const EndpointPort&) const = default;
};

struct SliceEndpoint {
  std::vector<std::string> addresses;
  // Conditions with the API's nil semantics already applied: ready nil → true,
  // serving nil → ready, terminating nil → false (discovery.k8s.io/v1 EndpointConditions).
  bool ready = true;
  bool serving = true;
  bool terminating = false;
  std::string zone;
  std::string target_name;  // targetRef.name (the pod)
  bool operator==(const SliceEndpoint&) const = default;
};

struct EndpointSliceSpec {
  std::string service_name;  // label kubernetes.io/service-name
  std::string address_type;  // IPv4, IPv6, FQDN
  std::vector<EndpointPort> ports;
  std::vector<SliceEndpoint> endpoints;
  bool operator==(const EndpointSliceSpec&) const = default;
};

struct EndpointSlice {
  ObjectMeta meta;
  EndpointSliceSpec spec;
};

// True when two versions of an object differ in nothing translation reads: same
// identity, annotations, labels and spec; resourceVersion and Ingress status ignored.
// The store uses it to drop no-op updates (our own status writes come back as MODIFIED).
bool Equivalent(const ObjectMeta& a, const ObjectMeta& b);
inline bool Equivalent(const Ingress& a, const Ingress& b) {
  return Equivalent(a.meta, b.meta) && a.spec == b.spec;
}
inline bool Equivalent(const IngressClass& a, const IngressClass& b) {
  return Equivalent(a.meta, b.meta) && a.controller == b.controller && a.is_default == b.is_default;
}
inline bool Equivalent(const Service& a, const Service& b) {
  return Equivalent(a.meta, b.meta) && a.spec == b.spec;
}
inline bool Equivalent(const EndpointSlice& a, const EndpointSlice& b) {
  return Equivalent(a.meta, b.meta) && a.spec == b.spec;
}
inline bool Equivalent(const TlsSecret& a, const TlsSecret& b) {
  return Equivalent(a.meta, b.meta) && a.cert_pem == b.cert_pem && a.key_pem == b.key_pem;
}

}  // namespace keel::store
