// One compiled route: its path and header matchers (RE2 compiled once), and what the
// proxy needs pre-resolved to act on a match: cluster indices with weights, redirect or
// direct-response data, path/host rewrite, policy and metrics labels.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "keel/config/v1/config.pb.h"

namespace re2 {
class RE2;
}

namespace keel::router {

// Request headers by lower-case name. Repeated headers come combined (", "-joined) or
// as the first value, at the proxy's choice; nullopt when absent.
class HeaderLookup {
 public:
  virtual std::optional<std::string_view> Get(std::string_view lower_name) const = 0;

 protected:
  ~HeaderLookup() = default;
};

// Adapts any callable optional<string_view>(string_view) to HeaderLookup.
template <typename F>
class HeaderLookupFn final : public HeaderLookup {
 public:
  explicit HeaderLookupFn(F f) : f_(std::move(f)) {}
  std::optional<std::string_view> Get(std::string_view lower_name) const override { return f_(lower_name); }

 private:
  F f_;
};

// A lookup with no headers at all.
const HeaderLookup& NoHeaders();

// A cluster a route forwards to: its index in Snapshot.clusters (= upstream's
// ClusterTable index, stable across endpoint deltas), name and split weight.
struct ClusterWeight {
  uint32_t index = 0;
  uint32_t weight = 0;
  std::string name;
};

// Stable label values for metrics and access logs (live as long as the RouteTable).
struct RouteLabels {
  std::string vhost;  // "" for default routes
  std::string namespace_name;
  std::string ingress;
  std::string service;
};

class RouteEntry {
 public:
  using ClusterIndexFn = std::function<int64_t(std::string_view)>;
  enum class Action { kForward, kRedirect, kDirectResponse };

  // Compiles and validates a route; `cluster_index` maps a cluster name to its index
  // or -1. Errors name what is wrong; the caller prefixes where.
  static Result<RouteEntry> Compile(const keel::config::v1::Route& route, const ClusterIndexFn& cluster_index,
                                    std::string_view vhost);

  RouteEntry(RouteEntry&&) noexcept;
  RouteEntry& operator=(RouteEntry&&) noexcept;
  ~RouteEntry();

  // `path` is the normalised path without query (see path.h).
  bool Matches(std::string_view path, const HeaderLookup& headers) const;

  Action action() const { return action_; }
  keel::config::v1::RouteMatch::PathKind path_kind() const { return kind_; }
  const std::string& path() const { return path_; }

  // kForward: at least one cluster; weights sum > 0 when there are several.
  std::span<const ClusterWeight> clusters() const { return clusters_; }
  // Weighted choice from a uniform random 64-bit value.
  const ClusterWeight& PickCluster(uint64_t random) const;

  bool has_path_rewrite() const { return !prefix_rewrite_.empty() || !regex_template_.empty(); }
  // Writes the upstream request target for `target` (normalised path, query allowed)
  // into `out`; the query is kept. Returns false, leaving `out` alone, when the route
  // has no path rewrite.
  //  prefix_rewrite, PREFIX: the matched path elements are replaced ("/api/x" matched
  //    by "/api", rewrite "/" → "/x"; rewrite "/v2" → "/v2/x").
  //  prefix_rewrite, EXACT: the whole path becomes the rewrite.
  //  prefix_rewrite, REGEX: the matched leading part is replaced.
  //  regex_rewrite (REGEX only): the whole path becomes the RE2 template expanded with
  //    the match's groups (\0..\9), as nginx's `rewrite` replaces the whole URI.
  bool RewritePath(std::string_view target, std::string* out) const;
  // Host header to send upstream; empty: keep the client's.
  const std::string& host_rewrite() const { return host_rewrite_; }

  const keel::config::v1::RedirectAction& redirect() const { return redirect_; }
  const keel::config::v1::DirectResponse& direct_response() const { return direct_; }
  const keel::config::v1::RoutePolicy& policy() const { return policy_; }
  const RouteLabels& labels() const { return labels_; }

 private:
  RouteEntry();
  // Length of the leading part of `path` the path matcher matched (for rewrites).
  size_t MatchedLength(std::string_view path) const;

  struct HeaderMatcher;

  keel::config::v1::RouteMatch::PathKind kind_{};
  std::string path_;    // as configured
  std::string prefix_;  // PREFIX: without trailing '/'
  std::unique_ptr<re2::RE2> path_regex_;
  std::vector<HeaderMatcher> headers_;

  Action action_ = Action::kForward;
  std::vector<ClusterWeight> clusters_;
  std::vector<uint64_t> cumulative_;  // running weight sums, for PickCluster
  std::string prefix_rewrite_;
  std::string regex_template_;  // applied with path_regex_
  int rewrite_groups_ = 0;      // \0..\N used by the template, N+1
  std::string host_rewrite_;
  keel::config::v1::RedirectAction redirect_;
  keel::config::v1::DirectResponse direct_;
  keel::config::v1::RoutePolicy policy_;
  RouteLabels labels_;
};

}  // namespace keel::router
