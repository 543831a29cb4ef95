// Service/port resolution and endpoint lists (see backends.h).
#include "controller/translate/backends.h"

#include <algorithm>

#include "controller/translate/values.h"

namespace keel::translate {

using config::v1::Endpoint;

const store::ServicePort* FindServicePort(const store::Service& service, int32_t number) {
  for (const store::ServicePort& p : service.spec.ports) {
    if (p.port == number) return &p;
  }
  return nullptr;
}

ResolvedBackend ResolveBackend(const store::StoreView& view, const std::string& ns,
                               const store::IngressBackend& b) {
  ResolvedBackend r;
  if (b.is_resource) {
    r.reason = "UnsupportedBackend";
    r.message = "resource backends (" + b.resource_kind + " " + b.resource_name + ") are not supported";
    return r;
  }
  if (b.service_name.empty() || (b.port_name.empty() && b.port_number == 0)) {
    r.reason = "InvalidBackend";
    r.message = "backend must name a service and a port (number or name)";
    return r;
  }
  const store::Service* svc = view.FindService({ns, b.service_name});
  auto svc_name = [&] { return ns + "/" + b.service_name; };
  if (svc == nullptr) {
    r.reason = "UnknownService";
    r.message = "Service " + svc_name() + " not found";
    return r;
  }
  if (svc->spec.type == "ExternalName") {
    r.reason = "UnsupportedExternalName";
    r.message = "Service " + svc_name() + " is of type ExternalName (" + svc->spec.external_name +
                "), which keel does not route to";
    return r;
  }
  const store::ServicePort* port = nullptr;
  if (b.port_number != 0) {
    port = FindServicePort(*svc, b.port_number);
  } else {
    for (const store::ServicePort& p : svc->spec.ports) {
      if (p.name == b.port_name) port = &p;
    }
  }
  if (port == nullptr) {
    r.reason = "UnknownServicePort";
    r.message = "Service " + svc_name() + " has no port " +
                (b.port_number != 0 ? std::to_string(b.port_number) : "named \"" + b.port_name + "\"");
    return r;
  }
  if (port->protocol != "TCP") {
    r.reason = "UnknownServicePort";
    r.message = "Service " + svc_name() + " port " + std::to_string(port->port) + " is " + port->protocol +
                ", not TCP";
    return r;
  }
  r.service = svc;
  r.port = port;
  return r;
}

void BuildEndpoints(const store::SliceSet* slices, const store::ServicePort& port,
                    google::protobuf::RepeatedPtrField<Endpoint>* out) {
  out->Clear();
  if (slices == nullptr) return;
  for (const auto& [name, slice] : *slices) {
    const store::EndpointSliceSpec& s = slice->spec;
    if (s.address_type != "IPv4" && s.address_type != "IPv6") continue;
    int32_t number = 0;
    for (const store::EndpointPort& p : s.ports) {
      if (p.name == port.name) number = p.port.value_or(0);
    }
    // The slice's port named after the Service port carries the resolved targetPort;
    // without it (or with a nil "all ports" entry) only a numeric targetPort can help.
    if (number == 0) number = port.target_port_number;
    if (number == 0) continue;
    for (const store::SliceEndpoint& e : s.endpoints) {
      if (!(e.ready || e.serving) || e.addresses.empty() || !IsIpLiteral(e.addresses[0])) continue;
      Endpoint* ep = out->Add();
      ep->set_address(e.addresses[0]);
      ep->set_port(static_cast<uint32_t>(number));
      ep->set_weight(1);
      ep->set_zone(e.zone);
      ep->set_ready(e.ready);
      ep->set_serving(e.serving);
      ep->set_terminating(e.terminating);
      ep->set_target(e.target_name);
    }
  }
  std::stable_sort(out->begin(), out->end(), [](const Endpoint& a, const Endpoint& b) {
    if (a.address() != b.address()) return a.address() < b.address();
    return a.port() < b.port();
  });
  // Merge duplicates (an endpoint may sit in two slices while the slice controller
  // rebalances); the first copy (slices in name order) keeps its zone and target.
  int w = 0;
  for (int i = 0; i < out->size(); ++i) {
    if (w > 0 && out->Get(w - 1).address() == out->Get(i).address() &&
        out->Get(w - 1).port() == out->Get(i).port()) {
      Endpoint* keep = out->Mutable(w - 1);
      const Endpoint& dup = out->Get(i);
      keep->set_ready(keep->ready() || dup.ready());
      keep->set_serving(keep->serving() || dup.serving());
      keep->set_terminating(keep->terminating() && dup.terminating());
      continue;
    }
    if (w != i) out->SwapElements(w, i);
    ++w;
  }
  while (out->size() > w) out->RemoveLast();
}

config::v1::UpstreamProtocol ProtocolFor(const store::ServicePort& port) {
  const std::string p = Lower(port.app_protocol);
  if (p == "kubernetes.io/h2c" || p == "h2c" || p == "grpc") return config::v1::H2C;
  return config::v1::HTTP1;
}

std::string ClusterBaseName(const std::string& ns, const std::string& service, int32_t port) {
  std::string out;
  out.append(ns).append("/").append(service).append(":").append(std::to_string(port));
  return out;
}

bool ParseClusterName(std::string_view name, store::ObjectRef* service, int32_t* port) {
  size_t slash = name.find('/');
  size_t colon = name.find(':');
  if (slash == std::string_view::npos || colon == std::string_view::npos || colon < slash) return false;
  service->ns = std::string(name.substr(0, slash));
  service->name = std::string(name.substr(slash + 1, colon - slash - 1));
  int32_t p = 0;
  size_t i = colon + 1;
  for (; i < name.size() && name[i] >= '0' && name[i] <= '9'; ++i) p = p * 10 + (name[i] - '0');
  if (p == 0 || (i < name.size() && name[i] != '~')) return false;
  *port = p;
  return true;
}

}  // namespace keel::translate
