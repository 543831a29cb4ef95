// The API coordinates of each kind the controller watches, and the list/watch URLs
// built from them (namespaced when --watch-namespace is set, IngressClass always
// cluster-scoped, Secrets filtered server-side: no Helm release, token or registry types).
#pragma once

#include <string>
#include <string_view>

#include "controller/store/sink.h"

namespace keel::k8s {

struct KindInfo {
  store::Kind kind;
  std::string_view name;         // "Ingress", as in an object's "kind"
  std::string_view api_version;  // "networking.k8s.io/v1"
  std::string_view plural;       // "ingresses"
  bool namespaced;
  std::string_view field_selector;  // "" or e.g. "type!=helm.sh/release.v1"
};

const KindInfo& InfoOf(store::Kind kind);

// "/apis/networking.k8s.io/v1/namespaces/ns/ingresses" ("ns" empty or the kind
// cluster-scoped: the cluster-wide collection).
std::string CollectionPath(const KindInfo& info, std::string_view ns);

// A paginated list request: limit, continue token, field selector.
std::string ListTarget(const KindInfo& info, std::string_view ns, int limit, std::string_view continue_token);

// A watch from `resource_version` with bookmarks, ending after `timeout_seconds`.
std::string WatchTarget(const KindInfo& info, std::string_view ns, std::string_view resource_version,
                        int timeout_seconds);

// Percent-encodes a query parameter value (RFC 3986 unreserved characters pass).
std::string QueryEscape(std::string_view value);

}  // namespace keel::k8s
