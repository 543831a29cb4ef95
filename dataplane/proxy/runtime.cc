#include "dataplane/proxy/runtime.h"

#include "common/log.h"
#include "dataplane/policy/policy.h"
#include "dataplane/proxy/forward.h"
#include "dataplane/router/path.h"
#include "dataplane/tls/cert_store.h"
#include "dataplane/upstream/balancer.h"

namespace keel::proxy {
namespace {

std::string_view CookieValue(std::span<const http1::Header> fields, std::string_view name) {
  for (const auto& h : fields) {
    if (!http1::EqualsIgnoreCase(h.name, "cookie")) continue;
    std::string_view v = h.value;
    while (!v.empty()) {
      size_t semi = v.find(';');
      std::string_view pair = v.substr(0, semi);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      size_t eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
      if (semi == std::string_view::npos) break;
      v.remove_prefix(semi + 1);
    }
  }
  return {};
}

void Direct(RouteDecision* out, int status, std::string body) {
  out->kind = RouteDecision::Kind::kDirect;
  out->status = status;
  out->body = std::move(body);
}

}  // namespace

Result<std::shared_ptr<const Runtime>> Runtime::Build(std::shared_ptr<const config::v1::Snapshot> snapshot,
                                                      const Runtime* previous) {
  auto routes = router::RouteTable::Build(*snapshot);
  if (!routes.ok()) return Error{"routes: " + routes.error()};
  auto clusters = upstream::ClusterTable::Build(*snapshot, previous ? previous->clusters.get() : nullptr);
  if (!clusters.ok()) return Error{"clusters: " + clusters.error()};
  auto rt = std::make_shared<Runtime>();
  rt->snapshot = std::move(snapshot);
  rt->routes = std::move(*routes);
  rt->clusters = std::move(*clusters);
  auto access = std::make_shared<AccessMap>();
  auto add_access = [&](const router::RouteEntry& e) -> Status {
    const auto& p = e.policy();
    if (auto st = policy::Validate(p); !st.ok()) return Error{"route " + e.path() + ": " + st.error()};
    if (p.allow_cidrs().empty() && p.deny_cidrs().empty()) return Status::Ok();
    auto list = AccessList::Parse({p.allow_cidrs().begin(), p.allow_cidrs().end()},
                                  {p.deny_cidrs().begin(), p.deny_cidrs().end()});
    if (!list.ok()) return Error{"route " + e.path() + ": " + list.error()};
    access->emplace(&e, std::move(*list));
    return Status::Ok();
  };
  for (const auto& vh : rt->routes->virtual_hosts()) {
    for (const auto& e : vh.routes) {
      if (auto st = add_access(e); !st.ok()) return Error{"vhost " + vh.name + ": " + st.error()};
    }
  }
  for (const auto& e : rt->routes->default_routes()) {
    if (auto st = add_access(e); !st.ok()) return Error{"default " + st.error()};
  }
  std::vector<std::string> cert_errors;
  rt->certs = tls::CertStore::Build(*rt->snapshot, &cert_errors);
  for (const auto& e : cert_errors) KEEL_LOG(Error, "tls") << e;
  rt->access = std::move(access);
  return std::shared_ptr<const Runtime>(std::move(rt));
}

Result<std::shared_ptr<const Runtime>> Runtime::ApplyDelta(const Runtime& base,
                                                           std::shared_ptr<const config::v1::Snapshot> merged,
                                                           const config::v1::EndpointDelta& delta) {
  if (delta.base_version() != base.version()) {
    return Error{"delta base '" + delta.base_version() + "' is not the runtime's '" + base.version() + "'"};
  }
  auto clusters = base.clusters->ApplyDelta(delta);
  if (!clusters.ok()) return Error{"clusters: " + clusters.error()};
  auto d = std::make_shared<Delta>();
  d->base_version = base.version();
  d->version = delta.version();
  for (const auto& ce : delta.clusters()) {
    const auto i = static_cast<uint32_t>((*clusters)->Find(ce.cluster()));
    d->changed_clusters.push_back(i);
    for (const auto& ep : base.clusters->at(i)->endpoints().endpoints()) d->removed_endpoints.insert(ep.key);
  }
  // Keys still present in a changed cluster did not leave (O(changed endpoints)).
  for (uint32_t i : d->changed_clusters) {
    for (const auto& ep : (*clusters)->at(i)->endpoints().endpoints()) d->removed_endpoints.erase(ep.key);
  }
  auto rt = std::make_shared<Runtime>();
  rt->snapshot = std::move(merged);
  rt->routes = base.routes;
  rt->access = base.access;
  rt->certs = base.certs;  // certificates do not change with endpoints
  rt->clusters = std::move(*clusters);
  rt->delta = std::move(d);
  return std::shared_ptr<const Runtime>(std::move(rt));
}

void Runtime::Route(const http1::RequestHead& head, std::string_view client_ip, uint64_t random,
                    RouteDecision* out) const {
  std::string normalized;
  if (head.method == "OPTIONS" && head.path == "*") return Direct(out, 200, "");
  if (!router::NormalizePath(head.absolute_form ? std::string(head.path) +
                                                      (head.query.empty() ? "" : "?" + std::string(head.query))
                                                : std::string(head.target),
                             &normalized)
           .ok()) {
    return Direct(out, 400, "malformed request path\n");
  }
  auto lookup = [&head](std::string_view name) { return FindHeader(head.fields(), name); };
  router::HeaderLookupFn<decltype(lookup)> headers(lookup);
  const router::RouteEntry* e = routes->Match(head.host, router::StripQuery(normalized), headers);
  if (!e) {
    out->kind = RouteDecision::Kind::kNotFound;
    return;
  }
  const auto& labels = e->labels();
  out->labels = {labels.namespace_name, labels.ingress, labels.service};
  out->policy = &e->policy();
  if (auto it = access->find(e); it != access->end() && !it->second.Allows(client_ip)) {
    return Direct(out, 403, "forbidden\n");
  }
  switch (e->action()) {
    case router::RouteEntry::Action::kDirectResponse:
      Direct(out, static_cast<int>(e->direct_response().status()), e->direct_response().body());
      out->content_type = e->direct_response().content_type();
      return;
    case router::RouteEntry::Action::kRedirect: {
      const auto& r = e->redirect();
      out->kind = RouteDecision::Kind::kRedirect;
      out->status = r.status() ? static_cast<int>(r.status()) : 301;
      std::string& loc = out->location;
      loc = r.scheme().empty() ? "http" : r.scheme();
      loc += "://";
      loc += r.host().empty() ? std::string(head.host.substr(0, head.host.rfind(':') == std::string_view::npos ||
                                                                     head.host.back() == ']'
                                                                 ? head.host.size()
                                                                 : head.host.rfind(':')))
                              : r.host();
      if (r.port()) loc += ":" + std::to_string(r.port());
      std::string_view path = router::StripQuery(normalized);
      loc += r.path().empty() ? std::string(path) : r.path();
      if (!r.strip_query() && normalized.size() > path.size()) loc += normalized.substr(path.size());
      return;
    }
    case router::RouteEntry::Action::kForward: break;
  }
  const auto& picked = e->PickCluster(random);
  out->cluster = picked.index;
  if (clusters->at(picked.index)->endpoints().routable().empty()) {
    out->kind = RouteDecision::Kind::kNoEndpoints;
    out->status = 503;
    return;
  }
  out->kind = RouteDecision::Kind::kForward;
  if (!e->has_path_rewrite() || !e->RewritePath(normalized, &out->upstream_path)) {
    out->upstream_path = std::move(normalized);
  }
  out->host_override = e->host_rewrite();
  out->timeout_ms = e->policy().timeout_ms();
}

void Runtime::HashInputs(const http1::RequestHead& head, uint32_t cluster, std::string_view client_ip,
                         std::string* hash_key, std::string* sticky) const {
  const auto& c = *clusters->at(cluster);
  auto kind = c.lb().kind();
  if (kind == config::v1::LbPolicy::RING_HASH || kind == config::v1::LbPolicy::MAGLEV) {
    auto header = [&](std::string_view n) { return FindHeader(head.fields(), n).value_or(std::string_view()); };
    auto cookie = [&](std::string_view n) { return CookieValue(head.fields(), n); };
    hash_key->assign(upstream::ExtractHashKey(c.hash_source(), client_ip, head.target, header, cookie));
  }
  if (c.sticky()) sticky->assign(CookieValue(head.fields(), c.lb().sticky().name()));
}

}  // namespace keel::proxy
