// Translate(): class selection, rules → routes, backends → clusters, conflicts,
// defaultBackend fallbacks, canaries, and the deterministic output. TLS is in tls.cc,
// the endpoint fast path in endpoints_fast.cc. Rules are documented in README.md.
#include <algorithm>
#include <tuple>

#include "controller/translate/builder.h"
#include "controller/translate/version.h"

namespace keel::translate {
namespace {

using config::v1::Route;
using config::v1::RouteMatch;

constexpr const char* kClassAnnotation = "kubernetes.io/ingress.class";

// How diagnostics name a host; rules without a host serve "(any)" host no rule matches.
std::string HostLabel(const std::string& host) { return host.empty() ? "(any)" : host; }

std::string Where(const std::string& host, const PathMatch& m) {
  return "host \"" + HostLabel(host) + "\" path \"" + m.path + "\"";
}

std::string BackendName(const store::IngressBackend& b) {
  if (b.is_resource) return b.resource_kind + "/" + b.resource_name;
  return b.service_name + ":" + (b.port_number != 0 ? std::to_string(b.port_number) : b.port_name);
}

// "$1" → "\1" for RE2 rewrite templates; literal backslashes escaped. Returns the
// highest group referenced.
int ConvertRewrite(const std::string& in, std::string* out) {
  int max_group = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '$' && i + 1 < in.size() && in[i + 1] >= '0' && in[i + 1] <= '9') {
      int g = in[i + 1] - '0';
      max_group = std::max(max_group, g);
      *out += '\\';
      *out += in[i + 1];
      ++i;
    } else if (in[i] == '\\') {
      *out += "\\\\";
    } else {
      *out += in[i];
    }
  }
  return max_group;
}

// Match order inside a virtual host: Exact, then Prefix longest first, then regexes in
// order of appearance, then the Prefix "/" catch-all (so that a "/" rule or a
// defaultBackend does not shadow every regex). Routes with header conditions come
// before the same path without.
struct OrderKey {
  int rank;
  int64_t neg_len;
  uint64_t seq;
  int no_headers;
  std::string_view path;  // views into the VHostBuild, alive while sorting
  std::string_view key;
  auto operator<=>(const OrderKey&) const = default;
};

OrderKey OrderOf(const std::string& key, const RouteEntry& e) {
  const RouteMatch& m = e.route.match();
  OrderKey k{};
  k.no_headers = m.headers_size() == 0 ? 1 : 0;
  k.key = key;
  if (m.path_kind() == RouteMatch::REGEX) {
    k.rank = 2;
    k.seq = e.seq;
    return k;
  }
  k.rank = m.path_kind() == RouteMatch::EXACT ? 0 : (m.path() == "/" ? 3 : 1);
  k.neg_len = -static_cast<int64_t>(m.path().size());
  k.path = m.path();
  return k;
}

}  // namespace

std::string_view SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kInfo:
      return "Info";
    case Severity::kWarning:
      return "Warning";
    case Severity::kError:
      return "Error";
  }
  return "Unknown";
}

std::vector<Diagnostic> Diagnostics::Take() {
  std::sort(items_.begin(), items_.end());
  items_.erase(std::unique(items_.begin(), items_.end()), items_.end());
  return std::move(items_);
}

std::string RouteKey(const RouteMatch& match) {
  std::string key = std::to_string(static_cast<int>(match.path_kind()));
  key += '\0';
  key += match.path();
  for (const config::v1::HeaderMatch& h : match.headers()) {
    key += '\0';
    key += DeterministicBytes(h);
  }
  return key;
}

Builder::Builder(const store::StoreView& view, const TranslateOptions& options)
    : view_(view),
      opts_(options),
      validator_(options.certificate_validator != nullptr ? options.certificate_validator
                                                          : &fallback_validator_) {}

bool Builder::Claims(const store::Ingress& ing) const {
  // The legacy annotation wins over spec.ingressClassName, as in ingress-nginx and
  // Contour (the API server refuses objects that set both).
  auto ann = ing.meta.annotations.find(kClassAnnotation);
  if (ann != ing.meta.annotations.end()) return ann->second == opts_.ingress_class;
  if (ing.spec.ingress_class_name) {
    const store::IngressClass* cls = view_.FindIngressClass(*ing.spec.ingress_class_name);
    return cls != nullptr && cls->controller == opts_.controller_class;
  }
  if (opts_.watch_without_class) return true;
  for (const auto& [ref, cls] : view_.ingress_classes()) {
    if (cls->is_default && cls->controller == opts_.controller_class) return true;
  }
  return false;
}

std::string Builder::EnsureCluster(const std::string& ns, const ResolvedBackend& rb,
                                   const IngressPolicy& pol) {
  // Ingresses that ask for different upstream settings (balancer, timeouts, protocol)
  // for the same Service port get distinct clusters rather than a silent first-wins.
  std::string name = ClusterBaseName(ns, rb.service->meta.name, rb.port->port) + pol.cluster_suffix;
  auto it = clusters_.find(name);
  if (it != clusters_.end()) return name;
  config::v1::Cluster c = pol.cluster;
  c.set_name(name);
  if (!pol.protocol_set) c.set_protocol(ProtocolFor(*rb.port));
  BuildEndpoints(view_.FindSlices({ns, rb.service->meta.name}), *rb.port, c.mutable_endpoints());
  clusters_.emplace(name, ClusterBuild{std::move(c), false});
  return name;
}

Route Builder::BuildRoute(const store::Ingress& ing, const IngressPolicy& pol, const PathMatch& match,
                          const store::IngressBackend& backend, const std::string& host,
                          bool default_backend) {
  // Formatted only when a diagnostic needs it: most routes never do.
  auto where = [&] { return default_backend ? std::string("defaultBackend") : Where(host, match); };
  Route route;
  route.mutable_match()->set_path_kind(match.kind);
  route.mutable_match()->set_path(match.path);
  route.mutable_source()->set_namespace_(ing.meta.ns);
  route.mutable_source()->set_ingress(ing.meta.name);
  route.mutable_source()->set_service(BackendName(backend));
  if (pol.route.ByteSizeLong() != 0) *route.mutable_policy() = pol.route;
  if (pol.deny_all) {
    auto* d = route.mutable_direct_response();
    d->set_status(403);
    d->set_body("Forbidden\n");
    d->set_content_type("text/plain; charset=utf-8");
    return route;
  }
  if (pol.redirect) {
    *route.mutable_redirect() = *pol.redirect;
    return route;
  }
  if (pol.auth.basic && !ApplyBasicAuth(ing, pol, where(), route.mutable_policy())) {
    auth_unavailable_.insert(&ing);
    route.clear_policy();
    auto* d = route.mutable_direct_response();
    d->set_status(503);
    d->set_body("Service Unavailable\n");
    d->set_content_type("text/plain; charset=utf-8");
    return route;
  }
  ResolvedBackend rb = ResolveBackend(view_, ing.meta.ns, backend);
  if (!rb.ok()) {
    diags_.Ingress(ing, Severity::kError, rb.reason, where() + ": " + rb.message + "; answering 503");
    auto* d = route.mutable_direct_response();
    d->set_status(503);
    d->set_body("Service Unavailable\n");
    d->set_content_type("text/plain; charset=utf-8");
    return route;
  }
  auto* fwd = route.mutable_forward();
  fwd->add_clusters()->set_cluster(EnsureCluster(ing.meta.ns, rb, pol));
  fwd->set_host_rewrite(pol.host_rewrite);
  if (pol.rewrite_target) {
    if (match.kind == RouteMatch::REGEX) {
      std::string tmpl;
      int group = ConvertRewrite(*pol.rewrite_target, &tmpl);
      if (group > match.capture_groups) {
        diags_.Ingress(ing, Severity::kWarning, "InvalidAnnotation",
                       where() + ": rewrite-target \"" + *pol.rewrite_target + "\" uses $" +
                           std::to_string(group) + " but the path has " +
                           std::to_string(match.capture_groups) + " capture groups; not rewritten");
      } else {
        fwd->set_regex_rewrite(tmpl);
      }
    } else if (pol.rewrite_has_captures) {
      diags_.Ingress(ing, Severity::kWarning, "InvalidAnnotation",
                     where() + ": rewrite-target \"" + *pol.rewrite_target +
                         "\" uses capture groups but the path is not a regex; not rewritten");
    } else {
      fwd->set_prefix_rewrite(*pol.rewrite_target);
    }
  }
  return route;
}

bool Builder::AddRoute(VHostBuild* vh, const std::string& host, RouteEntry entry) {
  std::string key = RouteKey(entry.route.match());
  auto [it, inserted] = vh->routes.try_emplace(key);
  if (!inserted) {
    const store::Ingress& winner = *it->second.owner;
    const store::Ingress& loser = *entry.owner;
    const std::string what = "host \"" + HostLabel(host) + "\" path \"" + entry.route.match().path() +
                             "\" (" + RouteMatch::PathKind_Name(entry.route.match().path_kind()) + ")";
    if (&winner == &loser) {
      diags_.Ingress(loser, Severity::kWarning, "DuplicatePath",
                     what + " appears twice; the first one is used");
    } else {
      diags_.Ingress(loser, Severity::kError, "RouteConflict",
                     what + " is already served by the older Ingress " + winner.meta.ref().str());
    }
    return false;
  }
  vh->sources.insert(entry.owner->meta.ref().str());
  it->second = std::move(entry);
  return true;
}

void Builder::ProcessIngress(const store::Ingress& ing, const IngressPolicy& pol) {
  std::set<std::string>& hosts = hosts_of_[&ing];
  const bool regex_mode = pol.use_regex || pol.rewrite_has_captures;
  for (const store::IngressRule& rule : ing.spec.rules) {
    std::string host;
    if (!rule.host.empty()) {
      Result<std::string> h = NormalizeHost(rule.host);
      if (!h.ok()) {
        diags_.Ingress(ing, Severity::kError, "InvalidHost", h.error() + "; rule skipped");
        continue;
      }
      host = std::move(h.value());
    }
    hosts.insert(host);
    VHostBuild* vh = VHost(host);  // unordered_map: the pointer stays valid as hosts are added
    for (const store::IngressPath& path : rule.paths) {
      PathResult pr = ResolvePath(path.path, path.path_type, regex_mode);
      auto where_raw = [&] { return "host \"" + HostLabel(host) + "\" path \"" + path.path + "\""; };
      if (!pr.ok) {
        diags_.Ingress(ing, Severity::kError, pr.reason, where_raw() + ": " + pr.message + "; path skipped");
        continue;
      }
      if (pr.match.looks_like_regex) {
        diags_.Ingress(ing, Severity::kWarning, "PathLooksLikeRegex",
                       where_raw() + " has regex characters but is matched literally (pathType " +
                           path.path_type + "); use ImplementationSpecific or " + opts_.annotation_prefix +
                           "/use-regex: \"true\" for a regex");
      }
      RouteEntry e;
      e.route = BuildRoute(ing, pol, pr.match, path.backend, host, false);
      e.owner = &ing;
      e.seq = seq_++;
      AddRoute(vh, host, std::move(e));
    }
  }
  if (!pol.app_root.empty()) {
    for (const std::string& host : hosts) {
      RouteEntry e;
      Route& r = e.route;
      r.mutable_match()->set_path_kind(RouteMatch::EXACT);
      r.mutable_match()->set_path("/");
      r.mutable_redirect()->set_status(302);
      r.mutable_redirect()->set_path(pol.app_root);
      r.mutable_source()->set_namespace_(ing.meta.ns);
      r.mutable_source()->set_ingress(ing.meta.name);
      e.owner = &ing;
      e.seq = seq_++;
      VHostBuild* vh = VHost(host);
      if (vh->routes.count(RouteKey(r.match())) != 0) {
        diags_.Ingress(ing, Severity::kWarning, "AppRootConflict",
                       "host \"" + HostLabel(host) +
                           "\": app-root redirect not added, path \"/\" (EXACT) is "
                           "already routed");
        continue;
      }
      AddRoute(vh, host, std::move(e));
    }
  }
}

void Builder::AddFallbacks(const store::Ingress& ing, const IngressPolicy& pol) {
  if (!ing.spec.default_backend) return;
  PathMatch root;
  root.kind = RouteMatch::PREFIX;
  root.path = "/";
  Route route = BuildRoute(ing, pol, root, *ing.spec.default_backend, "", true);
  std::set<std::string> targets = hosts_of_[&ing];
  targets.insert("");  // the default backend always serves hosts no rule matches
  const std::string key = RouteKey(route.match());
  for (const std::string& host : targets) {
    VHostBuild* vh = VHost(host);
    auto it = vh->routes.find(key);
    if (it != vh->routes.end()) {
      // An explicit "/" rule shadows any defaultBackend; two defaultBackends compete.
      if (it->second.fallback && it->second.owner != &ing) {
        diags_.Ingress(ing, Severity::kWarning, "DefaultBackendConflict",
                       "defaultBackend for host \"" + HostLabel(host) +
                           "\" is already provided by the older Ingress " +
                           it->second.owner->meta.ref().str());
      }
      continue;
    }
    RouteEntry e;
    e.route = route;
    e.owner = &ing;
    e.seq = seq_++;
    e.fallback = true;
    AddRoute(vh, host, std::move(e));
  }
}

// The catch-all defaultBackend (in default_routes) also serves the unmatched paths
// of every host whose Ingresses have no "/" route of their own. ingress-nginx does
// this with the root location of every server (its "default backend"); without it a
// typo'd path on a known host would be a bare 404 while an unknown host is served.
// Only the defaultBackend is copied, never host-less path rules: nginx does not fall
// through from a matched server into the "_" server's locations either.
void Builder::AddDefaultFallbacks() {
  const RouteEntry* def = nullptr;
  std::string key;
  for (const auto& [k, e] : default_.routes) {
    if (e.fallback && e.route.match().path_kind() == RouteMatch::PREFIX && e.route.match().path() == "/") {
      def = &e;
      key = k;
      break;
    }
  }
  if (def == nullptr) return;
  for (auto& [host, vh] : vhosts_) {
    if (vh.routes.empty() || vh.routes.count(key) != 0) continue;
    RouteEntry e = *def;
    e.seq = seq_++;
    vh.sources.insert(e.owner->meta.ref().str());
    vh.routes.emplace(key, std::move(e));
  }
}

void Builder::ProcessCanary(const store::Ingress& ing, const IngressPolicy& pol) {
  const CanarySettings& c = pol.canary;
  const bool regex_mode = pol.use_regex || pol.rewrite_has_captures;
  if (pol.auth.basic) {
    diags_.Ingress(
        ing, Severity::kWarning, "UnsupportedAnnotation",
        opts_.annotation_prefix +
            "/auth-type on a canary Ingress is ignored: canary requests pass the primary Ingress's "
            "authentication (as in ingress-nginx)");
  }
  if (!c.weight && c.header.empty()) {
    diags_.Ingress(ing, Severity::kWarning, "CanaryWithoutRule",
                   "canary Ingress sets neither canary-weight nor canary-by-header; it receives no traffic");
    return;
  }
  for (const store::IngressRule& rule : ing.spec.rules) {
    std::string host;
    if (!rule.host.empty()) {
      Result<std::string> h = NormalizeHost(rule.host);
      if (!h.ok()) {
        diags_.Ingress(ing, Severity::kError, "InvalidHost", h.error() + "; rule skipped");
        continue;
      }
      host = std::move(h.value());
    }
    for (const store::IngressPath& path : rule.paths) {
      PathResult pr = ResolvePath(path.path, path.path_type, regex_mode);
      if (!pr.ok) {
        diags_.Ingress(
            ing, Severity::kError, pr.reason,
            "host \"" + HostLabel(host) + "\" path \"" + path.path + "\": " + pr.message + "; path skipped");
        continue;
      }
      const std::string where = Where(host, pr.match);
      VHostBuild* vh = VHost(host);
      RouteMatch m;
      m.set_path_kind(pr.match.kind);
      m.set_path(pr.match.path);
      auto primary = vh->routes.find(RouteKey(m));
      if (primary == vh->routes.end() || primary->second.owner == &ing) {
        diags_.Ingress(ing, Severity::kWarning, "CanaryWithoutPrimary",
                       where + ": no non-canary Ingress serves this host and path; canary ignored");
        continue;
      }
      ResolvedBackend rb = ResolveBackend(view_, ing.meta.ns, path.backend);
      if (!rb.ok()) {
        diags_.Ingress(ing, Severity::kError, rb.reason, where + ": " + rb.message + "; canary ignored");
        continue;
      }
      std::string cluster = EnsureCluster(ing.meta.ns, rb, pol);
      vh->sources.insert(ing.meta.ref().str());
      // A header canary replaces the primary's action: if that action is the closed
      // door of an unenforceable auth (503) or an allow-list with no valid entry (403),
      // forwarding would open it.
      const Route& pr_route = primary->second.route;
      if (!c.header.empty() && pr_route.has_direct_response() &&
          (auth_unavailable_.count(primary->second.owner) != 0 ||
           pr_route.direct_response().status() == 403)) {
        diags_.Ingress(
            ing, Severity::kWarning, "CanaryPrimaryUnavailable",
            where + ": the primary route is closed (authentication or allow-list); canary ignored");
        continue;
      }
      if (!c.header.empty()) {
        RouteEntry e;
        e.route = primary->second.route;
        e.owner = &ing;
        e.seq = primary->second.seq;
        config::v1::HeaderMatch* h = e.route.mutable_match()->add_headers();
        h->set_name(c.header);
        if (!c.header_pattern.empty()) {
          h->set_regex(c.header_pattern);
        } else {
          h->set_exact(c.header_value);
        }
        auto* fwd = e.route.mutable_forward();  // replaces a redirect/direct action, keeps rewrites
        fwd->clear_clusters();
        fwd->add_clusters()->set_cluster(cluster);
        e.route.mutable_source()->set_namespace_(ing.meta.ns);
        e.route.mutable_source()->set_ingress(ing.meta.name);
        e.route.mutable_source()->set_service(BackendName(path.backend));
        if (!AddRoute(vh, host, std::move(e))) continue;
      }
      if (c.weight && *c.weight > 0) {
        RouteEntry& p = primary->second;
        if (!p.route.has_forward()) {
          diags_.Ingress(ing, Severity::kWarning, "CanaryPrimaryUnavailable",
                         where + ": the primary route does not forward (redirect or error); weight ignored");
        } else if (p.split) {
          diags_.Ingress(ing, Severity::kWarning, "CanaryConflict",
                         where + ": another canary already splits this route; weight ignored");
        } else {
          auto* fwd = p.route.mutable_forward();
          fwd->mutable_clusters(0)->set_weight(c.weight_total - *c.weight);
          auto* wc = fwd->add_clusters();
          wc->set_cluster(cluster);
          wc->set_weight(*c.weight);
          p.split = true;
        }
      }
    }
  }
}

void Builder::Emit(TranslateResult* out) {
  config::v1::Snapshot& s = out->snapshot;
  s.mutable_global()->set_ssl_redirect(opts_.ssl_redirect);
  auto emit_routes = [](VHostBuild& vh, google::protobuf::RepeatedPtrField<Route>* routes) {
    std::vector<std::pair<OrderKey, RouteEntry*>> order;
    order.reserve(vh.routes.size());
    for (auto& [key, e] : vh.routes) order.emplace_back(OrderOf(key, e), &e);
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    routes->Reserve(static_cast<int>(order.size()));
    for (auto& [k, e] : order) *routes->Add() = std::move(e->route);
  };
  std::vector<std::pair<const std::string*, VHostBuild*>> sorted_vhosts;
  sorted_vhosts.reserve(vhosts_.size());
  for (auto& [name, vh] : vhosts_) sorted_vhosts.emplace_back(&name, &vh);
  std::sort(sorted_vhosts.begin(), sorted_vhosts.end(),
            [](const auto& a, const auto& b) { return *a.first < *b.first; });
  for (auto [name_ptr, vh_ptr] : sorted_vhosts) {
    const std::string& name = *name_ptr;
    VHostBuild& vh = *vh_ptr;
    if (vh.routes.empty()) continue;
    if (vh.certificate.empty()) {
      for (const store::Ingress* ing : vh.force_ssl_redirect) {
        diags_.Ingress(*ing, Severity::kWarning, "UnsupportedAnnotation",
                       opts_.annotation_prefix + "/force-ssl-redirect on host \"" + name +
                           "\", which has no TLS here: the dataplane only redirects hosts it terminates TLS "
                           "for; ignored");
      }
    }
    config::v1::VirtualHost* v = s.add_virtual_hosts();
    v->set_name(name);
    emit_routes(vh, v->mutable_routes());
    v->set_certificate(vh.certificate);
    for (const std::string& src : vh.sources) v->add_sources(src);
  }
  emit_routes(default_, s.mutable_default_routes());
  // Only what routes and hosts refer to: a route that lost a conflict, or a Secret
  // that lost a TLS conflict, must not leave an orphan cluster or key behind.
  auto collect = [this](const google::protobuf::RepeatedPtrField<Route>& routes) {
    for (const Route& r : routes) {
      for (const auto& wc : r.forward().clusters()) {
        auto it = clusters_.find(wc.cluster());
        if (it != clusters_.end()) it->second.used = true;
      }
    }
  };
  std::set<std::string> used_certs;
  if (!default_certificate_.empty()) used_certs.insert(default_certificate_);
  for (const config::v1::VirtualHost& v : s.virtual_hosts()) {
    collect(v.routes());
    if (!v.certificate().empty()) used_certs.insert(v.certificate());
  }
  collect(s.default_routes());
  std::vector<std::pair<const std::string*, ClusterBuild*>> used;
  used.reserve(clusters_.size());
  for (auto& [name, c] : clusters_) {
    if (c.used) used.emplace_back(&name, &c);
  }
  std::sort(used.begin(), used.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });
  s.mutable_clusters()->Reserve(static_cast<int>(used.size()));
  for (auto [name, c] : used) *s.add_clusters() = std::move(c->proto);
  for (auto& [name, c] : certs_) {
    if (used_certs.count(name) != 0) *s.add_certificates() = std::move(c);
  }
  s.set_default_certificate(default_certificate_);
  out->digests = ComputeVersion(&s);
}

TranslateResult Builder::Run() {
  TranslateResult out;
  for (const store::Rejection& r : view_.rejections()) {
    diags_.Add(store::KindName(r.kind), r.ref, Severity::kError, "InvalidObject", r.message);
  }
  // Oldest first, so that "the oldest Ingress wins a conflict" is simply "first wins".
  std::vector<const store::Ingress*> owned;
  for (const auto& [ref, ing] : view_.ingresses()) {
    if (!Claims(*ing)) continue;
    owned.push_back(ing.get());
    out.owned_ingresses.push_back(ref);
  }
  std::sort(owned.begin(), owned.end(), [](const store::Ingress* a, const store::Ingress* b) {
    return std::tie(a->meta.creation_timestamp, a->meta.ns, a->meta.name) <
           std::tie(b->meta.creation_timestamp, b->meta.ns, b->meta.name);
  });
  // Sized up front: growing these 10k-entry tables rehashes into ever larger bucket
  // arrays, and each large allocation makes glibc consolidate every small free chunk.
  vhosts_.reserve(owned.size() * 2);
  clusters_.reserve(owned.size() * 2);
  std::vector<IngressPolicy> policies;
  policies.reserve(owned.size());
  for (const store::Ingress* ing : owned) policies.push_back(ParseAnnotations(*ing, opts_, &diags_));
  // Authentication keel does not implement: the Ingress is not served at all (auth.h).
  // It stays owned (status is still written), like an Ingress whose every path failed.
  {
    size_t kept = 0;
    for (size_t i = 0; i < owned.size(); ++i) {
      if (!policies[i].auth.reject.empty()) {
        for (const std::string& why : policies[i].auth.reject) {
          diags_.Ingress(
              *owned[i], Severity::kError, "UnsupportedAuthentication",
              why + "; the Ingress is not served (keel fails closed on protection it cannot enforce)");
        }
        continue;
      }
      if (kept != i) {  // never self-move: a moved-from protobuf is cleared
        owned[kept] = owned[i];
        policies[kept] = std::move(policies[i]);
      }
      ++kept;
    }
    owned.resize(kept);
    policies.resize(kept);
  }

  ResolveDefaultCertificate();
  for (size_t i = 0; i < owned.size(); ++i) {
    if (!policies[i].canary.enabled) ProcessIngress(*owned[i], policies[i]);
  }
  for (size_t i = 0; i < owned.size(); ++i) {
    if (!policies[i].canary.enabled) AddFallbacks(*owned[i], policies[i]);
  }
  for (size_t i = 0; i < owned.size(); ++i) {
    if (policies[i].canary.enabled) ProcessCanary(*owned[i], policies[i]);
  }
  AddDefaultFallbacks();
  for (size_t i = 0; i < owned.size(); ++i) {
    if (policies[i].canary.enabled) continue;
    ResolveTls(*owned[i]);
    if (policies[i].force_ssl_redirect) {
      for (const std::string& host : hosts_of_[owned[i]]) {
        if (!host.empty()) vhosts_[host].force_ssl_redirect.insert(owned[i]);
      }
    }
  }
  Emit(&out);
  out.diagnostics = diags_.Take();
  return out;
}

TranslateResult Translate(const store::StoreView& view, const TranslateOptions& options) {
  return Builder(view, options).Run();
}

}  // namespace keel::translate
