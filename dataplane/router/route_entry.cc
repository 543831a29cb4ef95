// RouteEntry: compilation/validation, matching, weighted cluster choice, path rewrite.
#include "dataplane/router/route_entry.h"

#include <re2/re2.h>

#include <algorithm>

#include "dataplane/router/path.h"

namespace keel::router {

namespace cfg = keel::config::v1;

namespace {

class EmptyHeaders final : public HeaderLookup {
 public:
  std::optional<std::string_view> Get(std::string_view) const override { return std::nullopt; }
};

Result<std::unique_ptr<re2::RE2>> CompileRegex(const std::string& pattern, std::string_view what) {
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  auto re = std::make_unique<re2::RE2>(pattern, opts);
  if (!re->ok())
    return Error{std::string(what) + " regex '" + pattern + "' does not compile: " + re->error()};
  return re;
}

// RE2 rewrite templates reach at most \9.
constexpr int kMaxGroups = 10;

}  // namespace

struct RouteEntry::HeaderMatcher {
  enum class Kind { kExact, kRegex, kPresent };
  std::string name;
  Kind kind = Kind::kPresent;
  std::string exact;
  std::unique_ptr<re2::RE2> regex;
  bool invert = false;

  // A missing header fails exact/regex/present; `invert` flips the result either way
  // (so "invert + exact" also matches requests without the header, as in Envoy).
  bool Matches(const HeaderLookup& headers) const {
    const std::optional<std::string_view> v = headers.Get(name);
    bool ok = false;
    if (v) {
      switch (kind) {
        case Kind::kExact:
          ok = *v == exact;
          break;
        case Kind::kRegex:
          ok = re2::RE2::FullMatch(*v, *regex);
          break;
        case Kind::kPresent:
          ok = true;
          break;
      }
    }
    return ok != invert;
  }
};

const HeaderLookup& NoHeaders() {
  static const EmptyHeaders kEmpty;
  return kEmpty;
}

RouteEntry::RouteEntry() = default;
RouteEntry::RouteEntry(RouteEntry&&) noexcept = default;
RouteEntry& RouteEntry::operator=(RouteEntry&&) noexcept = default;
RouteEntry::~RouteEntry() = default;

Result<RouteEntry> RouteEntry::Compile(const cfg::Route& route, const ClusterIndexFn& cluster_index,
                                       std::string_view vhost) {
  RouteEntry e;
  const cfg::RouteMatch& m = route.match();
  e.kind_ = m.path_kind();
  e.path_ = m.path();
  switch (m.path_kind()) {
    case cfg::RouteMatch::EXACT:
    case cfg::RouteMatch::PREFIX:
      if (m.path().empty() || m.path()[0] != '/') return Error{"path '" + m.path() + "' must start with '/'"};
      if (m.path().find('?') != std::string::npos) return Error{"path '" + m.path() + "' contains '?'"};
      e.prefix_ = m.path();
      if (m.path_kind() == cfg::RouteMatch::PREFIX) {
        while (!e.prefix_.empty() && e.prefix_.back() == '/') e.prefix_.pop_back();
      }
      break;
    case cfg::RouteMatch::REGEX: {
      auto re = CompileRegex(m.path(), "path");
      if (!re.ok()) return Error{re.error()};
      e.path_regex_ = std::move(re.value());
      break;
    }
    default:
      return Error{"path_kind is unspecified"};
  }
  for (const cfg::HeaderMatch& h : m.headers()) {
    HeaderMatcher hm;
    hm.name = h.name();
    if (hm.name.empty()) return Error{"header match with an empty name"};
    if (std::any_of(hm.name.begin(), hm.name.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
      return Error{"header match name '" + hm.name + "' is not lower-case"};
    }
    hm.invert = h.invert();
    switch (h.value_case()) {
      case cfg::HeaderMatch::kExact:
        hm.kind = HeaderMatcher::Kind::kExact;
        hm.exact = h.exact();
        break;
      case cfg::HeaderMatch::kRegex: {
        auto re = CompileRegex(h.regex(), "header " + hm.name);
        if (!re.ok()) return Error{re.error()};
        hm.kind = HeaderMatcher::Kind::kRegex;
        hm.regex = std::move(re.value());
        break;
      }
      default:  // `present`, or nothing set: presence is the only sensible reading
        hm.kind = HeaderMatcher::Kind::kPresent;
    }
    e.headers_.push_back(std::move(hm));
  }

  switch (route.action_case()) {
    case cfg::Route::kForward: {
      const cfg::ForwardAction& f = route.forward();
      e.action_ = Action::kForward;
      if (f.clusters().empty()) return Error{"forward action without clusters"};
      uint64_t sum = 0;
      for (const auto& wc : f.clusters()) {
        const int64_t idx = cluster_index(wc.cluster());
        if (idx < 0) return Error{"unknown cluster " + wc.cluster()};
        e.clusters_.push_back(ClusterWeight{static_cast<uint32_t>(idx), wc.weight(), wc.cluster()});
        e.cumulative_.push_back(sum += wc.weight());
      }
      // One cluster takes everything whatever its weight (the proto: "a single entry gets all").
      if (e.clusters_.size() > 1 && sum == 0) return Error{"cluster weights sum to 0"};
      if (!f.prefix_rewrite().empty() && !f.regex_rewrite().empty()) {
        return Error{"both prefix_rewrite and regex_rewrite are set"};
      }
      if (!f.prefix_rewrite().empty() && f.prefix_rewrite()[0] != '/') {
        return Error{"prefix_rewrite '" + f.prefix_rewrite() + "' must start with '/'"};
      }
      e.prefix_rewrite_ = f.prefix_rewrite();
      if (!f.regex_rewrite().empty()) {
        if (m.path_kind() != cfg::RouteMatch::REGEX) return Error{"regex_rewrite needs a REGEX path"};
        std::string why;
        if (!e.path_regex_->CheckRewriteString(f.regex_rewrite(), &why)) {
          return Error{"regex_rewrite '" + f.regex_rewrite() + "': " + why};
        }
        e.regex_template_ = f.regex_rewrite();
        e.rewrite_groups_ = re2::RE2::MaxSubmatch(e.regex_template_) + 1;
      }
      e.host_rewrite_ = f.host_rewrite();
      break;
    }
    case cfg::Route::kRedirect: {
      const uint32_t s = route.redirect().status();
      if (s != 301 && s != 302 && s != 303 && s != 307 && s != 308) {
        return Error{"redirect status " + std::to_string(s) + " is not 301, 302, 303, 307 or 308"};
      }
      if (route.redirect().port() > 65535) return Error{"redirect port out of range"};
      e.action_ = Action::kRedirect;
      e.redirect_ = route.redirect();
      break;
    }
    case cfg::Route::kDirectResponse: {
      const uint32_t s = route.direct_response().status();
      if (s < 200 || s > 599)
        return Error{"direct response status " + std::to_string(s) + " is not 200..599"};
      e.action_ = Action::kDirectResponse;
      e.direct_ = route.direct_response();
      break;
    }
    default:
      return Error{"route has no action"};
  }
  e.policy_ = route.policy();
  e.labels_ = RouteLabels{std::string(vhost), route.source().namespace_(), route.source().ingress(),
                          route.source().service()};
  return e;
}

bool RouteEntry::Matches(std::string_view path, const HeaderLookup& headers) const {
  bool ok = false;
  switch (kind_) {
    case cfg::RouteMatch::EXACT:
      ok = path == prefix_;
      break;
    case cfg::RouteMatch::PREFIX:
      ok = PathPrefixMatches(prefix_, path);
      break;
    case cfg::RouteMatch::REGEX:
      // Anchored at the start, open at the end: ingress-nginx's "location ~* ^<path>".
      ok = path_regex_->Match(path, 0, path.size(), re2::RE2::ANCHOR_START, nullptr, 0);
      break;
    default:
      break;
  }
  if (!ok) return false;
  for (const HeaderMatcher& h : headers_) {
    if (!h.Matches(headers)) return false;
  }
  return true;
}

const ClusterWeight& RouteEntry::PickCluster(uint64_t random) const {
  if (clusters_.size() == 1) return clusters_[0];
  const uint64_t r = random % cumulative_.back();
  const size_t i =
      static_cast<size_t>(std::upper_bound(cumulative_.begin(), cumulative_.end(), r) - cumulative_.begin());
  return clusters_[i];
}

size_t RouteEntry::MatchedLength(std::string_view path) const {
  switch (kind_) {
    case cfg::RouteMatch::EXACT:
      return path.size();
    case cfg::RouteMatch::PREFIX:
      return std::min(prefix_.size(), path.size());
    case cfg::RouteMatch::REGEX: {
      re2::StringPiece whole;
      if (!path_regex_->Match(path, 0, path.size(), re2::RE2::ANCHOR_START, &whole, 1)) return 0;
      return whole.size();
    }
    default:
      return 0;
  }
}

bool RouteEntry::RewritePath(std::string_view target, std::string* out) const {
  if (!has_path_rewrite()) return false;
  const size_t q = target.find('?');
  const std::string_view path = q == std::string_view::npos ? target : target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q);
  out->clear();
  if (!regex_template_.empty()) {
    re2::StringPiece groups[kMaxGroups];
    if (path_regex_->Match(path, 0, path.size(), re2::RE2::ANCHOR_START, groups, rewrite_groups_) &&
        path_regex_->Rewrite(out, regex_template_, groups, rewrite_groups_)) {
      if (out->empty() || (*out)[0] != '/') out->insert(0, 1, '/');
    } else {
      out->assign(path);  // the route matched, so this is unreachable short of misuse
    }
  } else {
    std::string_view base = prefix_rewrite_;
    const std::string_view rest = path.substr(MatchedLength(path));
    if (!rest.empty() && rest[0] == '/') {
      while (!base.empty() && base.back() == '/') base.remove_suffix(1);
    }
    out->append(base).append(rest);
    if (out->empty()) out->push_back('/');
  }
  out->append(query);
  return true;
}

}  // namespace keel::router
