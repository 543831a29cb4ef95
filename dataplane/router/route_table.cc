// RouteTable construction (validation with precise reasons) and host/route lookup.
#include "dataplane/router/route_table.h"

#include <unordered_set>

#include "dataplane/router/path.h"

namespace keel::router {

namespace cfg = keel::config::v1;

Result<std::shared_ptr<const RouteTable>> RouteTable::Build(const cfg::Snapshot& snapshot) {
  auto table = std::make_shared<RouteTable>();
  table->version_ = snapshot.version();

  Index clusters;
  for (int i = 0; i < snapshot.clusters_size(); ++i) {
    clusters.emplace(snapshot.clusters(i).name(), static_cast<uint32_t>(i));
  }
  const RouteEntry::ClusterIndexFn cluster_index = [&clusters](std::string_view name) -> int64_t {
    auto it = clusters.find(name);
    return it == clusters.end() ? -1 : static_cast<int64_t>(it->second);
  };
  std::unordered_set<std::string> certificates;
  for (const auto& c : snapshot.certificates()) certificates.insert(c.name());

  table->vhosts_.reserve(static_cast<size_t>(snapshot.virtual_hosts_size()));
  for (const cfg::VirtualHost& vh : snapshot.virtual_hosts()) {
    std::string why;
    if (!ValidVirtualHostName(vh.name(), &why)) return Error{"vhost '" + vh.name() + "': " + why};
    if (!vh.certificate().empty() && certificates.count(vh.certificate()) == 0) {
      return Error{"vhost " + vh.name() + ": unknown certificate " + vh.certificate()};
    }
    const auto idx = static_cast<uint32_t>(table->vhosts_.size());
    const bool wildcard = vh.name().rfind("*.", 0) == 0;
    Index& index = wildcard ? table->wildcard_ : table->exact_;
    if (!index.emplace(wildcard ? vh.name().substr(2) : vh.name(), idx).second) {
      return Error{"duplicate vhost " + vh.name()};
    }
    VirtualHostEntry entry{vh.name(), vh.certificate(), {}};
    entry.routes.reserve(static_cast<size_t>(vh.routes_size()));
    for (int r = 0; r < vh.routes_size(); ++r) {
      auto route = RouteEntry::Compile(vh.routes(r), cluster_index, vh.name());
      if (!route.ok())
        return Error{"route " + std::to_string(r) + " of vhost " + vh.name() + ": " + route.error()};
      entry.routes.push_back(std::move(route.value()));
    }
    table->vhosts_.push_back(std::move(entry));
  }
  table->default_routes_.reserve(static_cast<size_t>(snapshot.default_routes_size()));
  for (int r = 0; r < snapshot.default_routes_size(); ++r) {
    auto route = RouteEntry::Compile(snapshot.default_routes(r), cluster_index, "");
    if (!route.ok()) return Error{"default route " + std::to_string(r) + ": " + route.error()};
    table->default_routes_.push_back(std::move(route.value()));
  }
  return std::shared_ptr<const RouteTable>(std::move(table));
}

const VirtualHostEntry* RouteTable::FindVirtualHost(std::string_view host) const {
  char buf[kMaxHost];
  std::string_view name;
  if (!NormalizeHost(host, buf, &name) || name.empty()) return nullptr;
  if (auto it = exact_.find(name); it != exact_.end()) return &vhosts_[it->second];
  if (wildcard_.empty()) return nullptr;
  const size_t dot = name.find('.');
  if (dot == 0 || dot == std::string_view::npos) return nullptr;  // "*.x" needs a non-empty first label
  if (auto it = wildcard_.find(name.substr(dot + 1)); it != wildcard_.end()) return &vhosts_[it->second];
  return nullptr;
}

const RouteEntry* RouteTable::Match(std::string_view host, std::string_view path,
                                    const HeaderLookup& headers) const {
  const std::string_view p = StripQuery(path);
  const VirtualHostEntry* vh = FindVirtualHost(host);
  const std::vector<RouteEntry>& routes = vh != nullptr ? vh->routes : default_routes_;
  for (const RouteEntry& r : routes) {
    if (r.Matches(p, headers)) return &r;
  }
  return nullptr;
}

}  // namespace keel::router
