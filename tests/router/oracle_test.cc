// The compiled router against a naive linear matcher written from the contract's prose
// (std::regex instead of RE2, segment lists instead of prefix arithmetic, string copies
// instead of in-place normalisation): same answer on ≥ 100k random requests.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "dataplane/router/route_table.h"
#include "tests/router/fixtures.h"

namespace keel::router {
namespace {

using fixtures::MapHeaders;

const std::vector<std::string> kLabels = {"a", "b", "shop", "api", "x-1"};
const std::vector<std::string> kDomains = {"example.com", "test.io"};
const std::vector<std::string> kSegments = {"api", "v1",     "v2",  "users", "static",
                                            "img", "usersx", "v10", "a.png"};
// Patterns that mean the same in RE2 and ECMAScript.
const std::vector<std::string> kRegexes = {
    "/api/v[0-9]+", "/(users|static)/[a-z]+", "/img/.*\\.png", "/v[12]/", "/[a-z]+/v1$", "/users"};

class Oracle {
 public:
  explicit Oracle(const cfg::Snapshot& s) : s_(s) {
    auto compile = [this](const cfg::Route& r) {
      if (r.match().path_kind() == cfg::RouteMatch::REGEX) regex_.emplace(&r, std::regex(r.match().path()));
      for (const auto& h : r.match().headers()) {
        if (h.value_case() == cfg::HeaderMatch::kRegex) header_regex_.emplace(&h, std::regex(h.regex()));
      }
    };
    for (const auto& vh : s_.virtual_hosts())
      for (const auto& r : vh.routes()) compile(r);
    for (const auto& r : s_.default_routes()) compile(r);
  }

  std::string Match(std::string host, std::string path,
                    const std::map<std::string, std::string>& headers) const {
    std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return std::tolower(c); });
    if (host.find(':') != std::string::npos) host = host.substr(0, host.find(':'));
    if (!host.empty() && host.back() == '.') host.pop_back();
    if (path.find('?') != std::string::npos) path = path.substr(0, path.find('?'));
    const cfg::VirtualHost* vh = nullptr;
    for (const auto& v : s_.virtual_hosts()) {
      if (v.name() == host) vh = &v;
    }
    if (vh == nullptr) {
      for (const auto& v : s_.virtual_hosts()) {
        if (v.name().rfind("*.", 0) != 0) continue;
        const std::string suffix = v.name().substr(1);  // ".example.com"
        if (host.size() <= suffix.size() ||
            host.compare(host.size() - suffix.size(), suffix.size(), suffix) != 0)
          continue;
        const std::string first = host.substr(0, host.size() - suffix.size());
        if (first.find('.') == std::string::npos) vh = &v;
      }
    }
    const auto& routes = vh != nullptr ? vh->routes() : s_.default_routes();
    for (const auto& r : routes) {
      if (PathMatches(r, path) && HeadersMatch(r, headers)) return r.source().ingress();
    }
    return "404";
  }

 private:
  static std::vector<std::string> Split(const std::string& p) {
    std::vector<std::string> out;
    size_t start = 0;
    while (true) {
      const size_t slash = p.find('/', start);
      out.push_back(p.substr(start, slash - start));
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    return out;
  }

  bool PathMatches(const cfg::Route& r, const std::string& path) const {
    switch (r.match().path_kind()) {
      case cfg::RouteMatch::EXACT:
        return path == r.match().path();
      case cfg::RouteMatch::PREFIX: {
        auto rule = Split(r.match().path());
        if (rule.back().empty()) rule.pop_back();
        const auto req = Split(path);
        if (req.size() < rule.size()) return false;
        return std::equal(rule.begin(), rule.end(), req.begin());
      }
      case cfg::RouteMatch::REGEX:
        return std::regex_search(path, regex_.at(&r), std::regex_constants::match_continuous);
      default:
        return false;
    }
  }

  bool HeadersMatch(const cfg::Route& r, const std::map<std::string, std::string>& headers) const {
    for (const auto& h : r.match().headers()) {
      auto it = headers.find(h.name());
      bool ok = false;
      if (it != headers.end()) {
        if (h.value_case() == cfg::HeaderMatch::kExact) ok = it->second == h.exact();
        if (h.value_case() == cfg::HeaderMatch::kRegex)
          ok = std::regex_match(it->second, header_regex_.at(&h));
        if (h.value_case() == cfg::HeaderMatch::kPresent) ok = true;
      }
      if (ok == h.invert()) return false;
    }
    return true;
  }

  const cfg::Snapshot& s_;
  std::map<const cfg::Route*, std::regex> regex_;
  std::map<const cfg::HeaderMatch*, std::regex> header_regex_;
};

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[rng_() % v.size()];
  }
  bool Chance(int percent) { return static_cast<int>(rng_() % 100) < percent; }

  std::string RandomPath(int max_segments) {
    std::string p;
    const int n = static_cast<int>(rng_() % static_cast<uint32_t>(max_segments + 1));
    for (int i = 0; i < n; ++i) p += "/" + Pick(kSegments);
    if (p.empty() || Chance(20)) p += "/";
    return p;
  }

  cfg::Route RandomRoute(int id) {
    cfg::Route r;
    const int kind = static_cast<int>(rng_() % 3);
    r.mutable_match()->set_path_kind(kind == 0   ? cfg::RouteMatch::EXACT
                                     : kind == 1 ? cfg::RouteMatch::PREFIX
                                                 : cfg::RouteMatch::REGEX);
    r.mutable_match()->set_path(kind == 2 ? Pick(kRegexes) : RandomPath(3));
    if (Chance(20)) {
      auto* h = r.mutable_match()->add_headers();
      h->set_name("x-canary");
      const int hk = static_cast<int>(rng_() % 3);
      if (hk == 0) h->set_exact("on");
      if (hk == 1) h->set_regex("o[nf]+");
      if (hk == 2) h->set_present(true);
      h->set_invert(Chance(30));
    }
    r.mutable_forward()->add_clusters()->set_cluster("c");
    r.mutable_source()->set_ingress("r" + std::to_string(id));
    return r;
  }

  cfg::Snapshot RandomSnapshot() {
    cfg::Snapshot s;
    s.add_clusters()->set_name("c");
    std::vector<std::string> names;
    for (const auto& d : kDomains) {
      names.push_back("*." + d);
      for (const auto& l : kLabels) {
        names.push_back(l + "." + d);
        names.push_back("*." + l + "." + d);
        names.push_back(l + "." + Pick(kLabels) + "." + d);
      }
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    int id = 0;
    for (const auto& n : names) {
      if (!Chance(40)) continue;
      auto* vh = s.add_virtual_hosts();
      vh->set_name(n);
      const int routes = 1 + static_cast<int>(rng_() % 8);
      for (int i = 0; i < routes; ++i) *vh->add_routes() = RandomRoute(id++);
    }
    if (Chance(70)) {
      for (int i = 0; i < 3; ++i) *s.add_default_routes() = RandomRoute(id++);
    }
    return s;
  }

  std::string RandomHost() {
    std::string h = Chance(70) ? Pick(kLabels) + "." : "";
    if (Chance(30)) h += Pick(kLabels) + ".";
    h += Chance(90) ? Pick(kDomains) : "other.net";
    if (Chance(20)) h[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(h[0])));
    if (Chance(10)) h += ".";
    if (Chance(20)) h += ":8443";
    return h;
  }

  std::string RandomRequestPath() {
    std::string p = RandomPath(4);
    if (Chance(15)) p += "?q=/api/v1";
    return p;
  }

  std::map<std::string, std::string> RandomHeaders() {
    std::map<std::string, std::string> h;
    const std::vector<std::string> values = {"on", "off", "no", ""};
    if (Chance(60)) h["x-canary"] = Pick(values);
    return h;
  }

 private:
  std::mt19937 rng_;
};

TEST(RouterOracle, AgreesWithNaiveMatcherOnRandomRequests) {
  Generator gen(20261123);
  int cases = 0, routed = 0;
  for (int snap = 0; snap < 50; ++snap) {
    const cfg::Snapshot s = gen.RandomSnapshot();
    auto table = RouteTable::Build(s);
    ASSERT_TRUE(table.ok()) << table.error();
    const Oracle oracle(s);
    for (int i = 0; i < 2000; ++i, ++cases) {
      const std::string host = gen.RandomHost(), path = gen.RandomRequestPath();
      const auto headers = gen.RandomHeaders();
      const std::string want = oracle.Match(host, path, headers);
      const std::string got = fixtures::Id((*table)->Match(host, path, MapHeaders(headers)));
      ASSERT_EQ(got, want) << "snapshot " << snap << " host " << host << " path " << path;
      routed += want != "404" ? 1 : 0;
    }
  }
  EXPECT_EQ(cases, 100000);
  // The generator must exercise both outcomes heavily, or agreement means little.
  EXPECT_GT(routed, cases / 4);
  EXPECT_LT(routed, cases * 9 / 10);
}

}  // namespace
}  // namespace keel::router
