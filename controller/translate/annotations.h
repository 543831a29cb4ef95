// Ingress annotations → route and cluster settings. The ingress-nginx compatible set
// (under TranslateOptions.annotation_prefix) and our own keel.dev/ set; the full table
// is in README.md. Unknown annotations are ignored; invalid values produce an
// InvalidAnnotation diagnostic and are ignored (except allow-lists, which fail closed).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "controller/store/objects.h"
#include "controller/translate/auth.h"
#include "controller/translate/diagnostics.h"
#include "controller/translate/translate.h"
#include "keel/config/v1/config.pb.h"

namespace keel::translate {

struct CanarySettings {
  bool enabled = false;
  std::optional<uint32_t> weight;
  uint32_t weight_total = 100;
  std::string header;          // lower-case header name
  std::string header_value;    // exact value; "always" when only the header is given
  std::string header_pattern;  // RE2, whole value
};

struct IngressPolicy {
  // Copied onto every route of the Ingress (left empty when nothing is set).
  config::v1::RoutePolicy route;
  // An allow-list was given but none of its entries is valid: answer 403 rather than
  // silently allowing everyone.
  bool deny_all = false;
  bool force_ssl_redirect = false;
  std::optional<std::string> rewrite_target;
  bool rewrite_has_captures = false;  // "$1" style groups: implies regex paths
  bool use_regex = false;
  std::string host_rewrite;
  // permanent-redirect / temporal-redirect: every path answers with this redirect.
  std::optional<config::v1::RedirectAction> redirect;
  std::string app_root;
  // Cluster-level settings (lb, timeouts, protocol, upstream TLS); name and endpoints
  // empty. Clusters differing only here are distinct clusters (see README.md).
  config::v1::Cluster cluster;
  // "~<hash of cluster>" when `cluster` sets anything, else empty.
  std::string cluster_suffix;
  bool protocol_set = false;
  CanarySettings canary;
  // auth-* annotations (auth.h): basic auth, or reasons not to serve the Ingress.
  AuthSettings auth;
};

IngressPolicy ParseAnnotations(const store::Ingress& ingress, const TranslateOptions& options,
                               Diagnostics* diags);

}  // namespace keel::translate
