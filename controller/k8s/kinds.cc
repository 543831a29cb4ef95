// Kind coordinates and list/watch URLs.
#include "controller/k8s/kinds.h"

#include <cctype>

namespace keel::k8s {
namespace {

constexpr KindInfo kInfos[] = {
    {store::Kind::Ingress, "Ingress", "networking.k8s.io/v1", "ingresses", true, ""},
    {store::Kind::IngressClass, "IngressClass", "networking.k8s.io/v1", "ingressclasses", false, ""},
    {store::Kind::Service, "Service", "v1", "services", true, ""},
    {store::Kind::EndpointSlice, "EndpointSlice", "discovery.k8s.io/v1", "endpointslices", true, ""},
    // TLS Secrets (certificates) and Opaque ones (htpasswd files for basic auth). A field
    // selector cannot say "tls or Opaque", so the well-known other types are excluded
    // server-side (Helm releases are the bulk of a cluster's Secret bytes); anything
    // else that arrives is dropped at parse, where Opaque data is reduced to password
    // hashes (store/parse.h).
    {store::Kind::Secret, "Secret", "v1", "secrets", true,
     "type!=helm.sh/release.v1,type!=kubernetes.io/service-account-token,type!=kubernetes.io/"
     "dockerconfigjson,"
     "type!=kubernetes.io/dockercfg,type!=bootstrap.kubernetes.io/token"},
};

}  // namespace

const KindInfo& InfoOf(store::Kind kind) {
  for (const auto& info : kInfos) {
    if (info.kind == kind) return info;
  }
  return kInfos[0];
}

std::string CollectionPath(const KindInfo& info, std::string_view ns) {
  std::string path = info.api_version.find('/') == std::string_view::npos ? "/api/" : "/apis/";
  path += info.api_version;
  if (info.namespaced && !ns.empty()) {
    path += "/namespaces/";
    path += ns;
  }
  path += "/";
  path += info.plural;
  return path;
}

std::string QueryEscape(std::string_view value) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::string ListTarget(const KindInfo& info, std::string_view ns, int limit,
                       std::string_view continue_token) {
  std::string t = CollectionPath(info, ns) + "?limit=" + std::to_string(limit);
  if (!continue_token.empty()) t += "&continue=" + QueryEscape(continue_token);
  if (!info.field_selector.empty()) t += "&fieldSelector=" + QueryEscape(info.field_selector);
  return t;
}

std::string WatchTarget(const KindInfo& info, std::string_view ns, std::string_view resource_version,
                        int timeout_seconds) {
  std::string t = CollectionPath(info, ns) + "?watch=true&allowWatchBookmarks=true";
  t += "&resourceVersion=" + QueryEscape(resource_version);
  t += "&timeoutSeconds=" + std::to_string(timeout_seconds);
  if (!info.field_selector.empty()) t += "&fieldSelector=" + QueryEscape(info.field_selector);
  return t;
}

}  // namespace keel::k8s
