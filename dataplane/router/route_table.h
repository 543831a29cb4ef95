// The compiled routing table of one snapshot: host → virtual host → first matching
// route. Built on the config thread (Build validates everything the config client must
// NACK), then shared read-only by all workers; Match allocates nothing and locks
// nothing of ours (RE2 guards its lazily built DFA cache internally).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "dataplane/router/route_entry.h"
#include "keel/config/v1/config.pb.h"

namespace keel::router {

struct VirtualHostEntry {
  std::string name;  // "demo.example.com" or "*.example.com"
  std::string certificate;
  std::vector<RouteEntry> routes;
};

class RouteTable {
 public:
  // Fails, with a reason naming the vhost and route, when: a vhost name is malformed
  // or duplicated; a route's path kind is unspecified, a path does not start with '/',
  // a regex does not compile; a forward names an unknown cluster, has no cluster, or
  // several whose weights sum to 0; rewrites are inconsistent; a redirect or direct
  // response status is out of range; a vhost names an unknown certificate.
  static Result<std::shared_ptr<const RouteTable>> Build(const keel::config::v1::Snapshot& snapshot);

  // Host: exact vhost name, else "*.<suffix>" where <suffix> is the host minus its first
  // label (a wildcard covers exactly one label), else the default routes. Within the
  // chosen list the first matching route wins (the proto's order). A host whose vhost
  // matches but none of whose routes match gets nullptr (404); it does NOT fall through
  // to the default routes: the contract says those apply when no virtual host matches.
  // `host` is the raw Host / :authority value; `path` the normalised request target
  // (query ignored, see path.h). nullptr: answer 404.
  const RouteEntry* Match(std::string_view host, std::string_view path, const HeaderLookup& headers) const;

  // The virtual host `host` selects (nullptr: none), e.g. for TLS decisions.
  const VirtualHostEntry* FindVirtualHost(std::string_view host) const;

  const std::string& version() const { return version_; }
  const std::vector<VirtualHostEntry>& virtual_hosts() const { return vhosts_; }
  const std::vector<RouteEntry>& default_routes() const { return default_routes_; }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Index = std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>>;

  std::string version_;
  std::vector<VirtualHostEntry> vhosts_;
  Index exact_;     // name → vhosts_ index
  Index wildcard_;  // suffix after "*." → vhosts_ index
  std::vector<RouteEntry> default_routes_;
};

}  // namespace keel::router
