// Builders for router tests: snapshots with vhosts, routes and clusters in a few lines.
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <string>

#include "dataplane/router/route_entry.h"
#include "keel/config/v1/config.pb.h"

namespace keel::router {
namespace cfg = keel::config::v1;
namespace fixtures {

// A forward route to `cluster`; `id` goes into source.ingress so tests can tell routes apart.
inline cfg::Route Forward(cfg::RouteMatch::PathKind kind, const std::string& path, const std::string& id,
                          const std::string& cluster = "default/web:80") {
  cfg::Route r;
  r.mutable_match()->set_path_kind(kind);
  r.mutable_match()->set_path(path);
  auto* wc = r.mutable_forward()->add_clusters();
  wc->set_cluster(cluster);
  wc->set_weight(1);
  r.mutable_source()->set_namespace_("default");
  r.mutable_source()->set_ingress(id);
  r.mutable_source()->set_service("web:80");
  return r;
}

inline cfg::VirtualHost* AddVhost(cfg::Snapshot* s, const std::string& name) {
  auto* vh = s->add_virtual_hosts();
  vh->set_name(name);
  return vh;
}

inline void AddCluster(cfg::Snapshot* s, const std::string& name) { s->add_clusters()->set_name(name); }

// Headers from a map, for HeaderLookup.
class MapHeaders final : public HeaderLookup {
 public:
  explicit MapHeaders(std::map<std::string, std::string> h) : h_(std::move(h)) {}
  MapHeaders(std::initializer_list<std::pair<const std::string, std::string>> h) : h_(h) {}
  std::optional<std::string_view> Get(std::string_view name) const override {
    auto it = h_.find(std::string(name));
    if (it == h_.end()) return std::nullopt;
    return std::string_view(it->second);
  }

 private:
  std::map<std::string, std::string> h_;
};

inline std::string Id(const RouteEntry* e) { return e == nullptr ? "404" : e->labels().ingress; }

}  // namespace fixtures
}  // namespace keel::router
