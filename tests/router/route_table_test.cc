// RouteTable: host selection, path kinds, first-match order, headers, rewrites, weights
// and the validation reasons a NACK carries.
#include "dataplane/router/route_table.h"

#include <gtest/gtest.h>

#include "dataplane/router/path.h"
#include "tests/router/fixtures.h"

namespace keel::router {
namespace {

using fixtures::AddCluster;
using fixtures::AddVhost;
using fixtures::Forward;
using fixtures::Id;
using fixtures::MapHeaders;

std::shared_ptr<const RouteTable> MustBuild(const cfg::Snapshot& s) {
  auto t = RouteTable::Build(s);
  EXPECT_TRUE(t.ok()) << t.error();
  return t.ok() ? t.value() : nullptr;
}

std::string Route(const RouteTable& t, std::string_view host, std::string_view path,
                  const HeaderLookup& h = NoHeaders()) {
  return Id(t.Match(host, path, h));
}

cfg::Snapshot HostsSnapshot() {
  cfg::Snapshot s;
  AddCluster(&s, "default/web:80");
  *AddVhost(&s, "demo.example.com")->add_routes() = Forward(cfg::RouteMatch::PREFIX, "/", "exact");
  *AddVhost(&s, "*.example.com")->add_routes() = Forward(cfg::RouteMatch::PREFIX, "/", "wild");
  *AddVhost(&s, "api.example.com")->add_routes() = Forward(cfg::RouteMatch::PREFIX, "/api", "api");
  *s.add_default_routes() = Forward(cfg::RouteMatch::PREFIX, "/", "default");
  return s;
}

TEST(RouteTable, HostExactThenWildcardOneLabelThenDefault) {
  auto t = MustBuild(HostsSnapshot());
  EXPECT_EQ(Route(*t, "demo.example.com", "/"), "exact");
  EXPECT_EQ(Route(*t, "DEMO.Example.com:8080", "/x"), "exact");
  EXPECT_EQ(Route(*t, "demo.example.com.", "/x"), "exact");
  EXPECT_EQ(Route(*t, "shop.example.com", "/"), "wild");
  EXPECT_EQ(Route(*t, "a.b.example.com", "/"), "default");  // wildcard covers one label only
  EXPECT_EQ(Route(*t, "example.com", "/"), "default");
  EXPECT_EQ(Route(*t, ".example.com", "/"), "default");
  EXPECT_EQ(Route(*t, "other.test", "/"), "default");
  EXPECT_EQ(Route(*t, "", "/"), "default");
  // A matched vhost without a matching route is a 404, not the default backend.
  EXPECT_EQ(Route(*t, "api.example.com", "/other"), "404");
  EXPECT_EQ(Route(*t, "api.example.com", "/api/v1"), "api");
}

TEST(RouteTable, NoDefaultMeans404) {
  cfg::Snapshot s = HostsSnapshot();
  s.clear_default_routes();
  auto t = MustBuild(s);
  EXPECT_EQ(Route(*t, "nowhere.test", "/"), "404");
}

TEST(RouteTable, PrefixIsElementWiseAndIgnoresRuleTrailingSlash) {
  cfg::Snapshot s;
  AddCluster(&s, "default/web:80");
  auto* vh = AddVhost(&s, "h.test");
  *vh->add_routes() = Forward(cfg::RouteMatch::PREFIX, "/foo/", "foo");
  *vh->add_routes() = Forward(cfg::RouteMatch::PREFIX, "/", "root");
  auto t = MustBuild(s);
  EXPECT_EQ(Route(*t, "h.test", "/foo"), "foo");
  EXPECT_EQ(Route(*t, "h.test", "/foo/"), "foo");
  EXPECT_EQ(Route(*t, "h.test", "/foo/bar"), "foo");
  EXPECT_EQ(Route(*t, "h.test", "/foo?x=1"), "foo");
  EXPECT_EQ(Route(*t, "h.test", "/foobar"), "root");
  EXPECT_EQ(Route(*t, "h.test", "/Foo"), "root");  // case-sensitive
}

TEST(RouteTable, FirstMatchWinsInTheGivenOrder) {
  for (bool exact_first : {true, false}) {
    cfg::Snapshot s;
    AddCluster(&s, "default/web:80");
    auto* vh = AddVhost(&s, "h.test");
    const auto exact = Forward(cfg::RouteMatch::EXACT, "/foo/bar", "exact");
    const auto prefix = Forward(cfg::RouteMatch::PREFIX, "/foo", "prefix");
    *vh->add_routes() = exact_first ? exact : prefix;
    *vh->add_routes() = exact_first ? prefix : exact;
    auto t = MustBuild(s);
    EXPECT_EQ(Route(*t, "h.test", "/foo/bar"), exact_first ? "exact" : "prefix");
    EXPECT_EQ(Route(*t, "h.test", "/foo/bar/"), "prefix");  // Exact is exact
  }
}

TEST(RouteTable, RegexAnchoredAtStartOnly) {
  cfg::Snapshot s;
  AddCluster(&s, "default/web:80");
  auto* vh = AddVhost(&s, "h.test");
  *vh->add_routes() = Forward(cfg::RouteMatch::REGEX, "/api/v[0-9]+", "re");
  auto t = MustBuild(s);
  EXPECT_EQ(Route(*t, "h.test", "/api/v2"), "re");
  EXPECT_EQ(Route(*t, "h.test", "/api/v2/users?q=1"), "re");  // open at the end
  EXPECT_EQ(Route(*t, "h.test", "/x/api/v2"), "404");         // anchored at the start
  EXPECT_EQ(Route(*t, "h.test", "/api/vx"), "404");
}

TEST(RouteTable, HeaderConditions) {
  cfg::Snapshot s;
  AddCluster(&s, "default/web:80");
  auto* vh = AddVhost(&s, "h.test");
  auto canary = Forward(cfg::RouteMatch::PREFIX, "/", "canary");
  auto* h1 = canary.mutable_match()->add_headers();
  h1->set_name("x-canary");
  h1->set_exact("always");
  auto* h2 = canary.mutable_match()->add_headers();
  h2->set_name("x-user");
  h2->set_regex("u[0-9]+");
  *vh->add_routes() = canary;
  auto not_bot = Forward(cfg::RouteMatch::PREFIX, "/", "not-bot");
  auto* h3 = not_bot.mutable_match()->add_headers();
  h3->set_name("x-bot");
  h3->set_present(true);
  h3->set_invert(true);
  *vh->add_routes() = not_bot;
  *vh->add_routes() = Forward(cfg::RouteMatch::PREFIX, "/", "rest");
  auto t = MustBuild(s);
  EXPECT_EQ(Route(*t, "h.test", "/", MapHeaders({{"x-canary", "always"}, {"x-user", "u42"}})), "canary");
  EXPECT_EQ(Route(*t, "h.test", "/", MapHeaders({{"x-canary", "always"}, {"x-user", "u42x"}})), "not-bot");
  EXPECT_EQ(Route(*t, "h.test", "/", MapHeaders({{"x-canary", "always"}})), "not-bot");
  EXPECT_EQ(Route(*t, "h.test", "/", MapHeaders({{"x-bot", ""}})), "rest");
  auto fn = [](std::string_view n) -> std::optional<std::string_view> {
    if (n == "x-canary") return "always";
    if (n == "x-user") return "u1";
    return std::nullopt;
  };
  EXPECT_EQ(Route(*t, "h.test", "/", HeaderLookupFn<decltype(fn)>(fn)), "canary");
}

TEST(RouteTable, NormalisedPathDefeatsTraversalBypass) {
  cfg::Snapshot s;
  AddCluster(&s, "default/web:80");
  auto* vh = AddVhost(&s, "h.test");
  *vh->add_routes() = Forward(cfg::RouteMatch::PREFIX, "/admin", "admin");
  *vh->add_routes() = Forward(cfg::RouteMatch::PREFIX, "/public", "public");
  auto t = MustBuild(s);
  std::string norm;
  for (const char* evil : {"/public/../admin", "/public/%2e%2e/admin", "/public/./../admin/x"}) {
    ASSERT_TRUE(NormalizePath(evil, &norm).ok());
    EXPECT_EQ(Route(*t, "h.test", norm), "admin") << evil;
  }
}

TEST(RouteEntry, PrefixRewrite) {
  struct Case {
    const char *prefix, *rewrite, *in, *out;
  };
  for (const Case& c : std::vector<Case>{{"/api", "/", "/api/x", "/x"},
                                         {"/api", "/", "/api", "/"},
                                         {"/api", "/", "/api/", "/"},
                                         {"/api/", "/v2", "/api/x/y?q=1", "/v2/x/y?q=1"},
                                         {"/api", "/v2/", "/api", "/v2/"},
                                         {"/", "/base", "/x", "/base/x"},
                                         {"/", "/base", "/", "/base/"}}) {
    cfg::Snapshot s;
    AddCluster(&s, "default/web:80");
    auto r = Forward(cfg::RouteMatch::PREFIX, c.prefix, "r");
    r.mutable_forward()->set_prefix_rewrite(c.rewrite);
    *AddVhost(&s, "h.test")->add_routes() = r;
    auto t = MustBuild(s);
    const RouteEntry* e = t->Match("h.test", c.in, NoHeaders());
    ASSERT_NE(e, nullptr);
    std::string out;
    ASSERT_TRUE(e->RewritePath(c.in, &out));
    EXPECT_EQ(out, c.out) << c.prefix << " → " << c.rewrite << " on " << c.in;
  }
}

TEST(RouteEntry, RegexRewriteAndHostRewrite) {
  cfg::Snapshot s;
  AddCluster(&s, "default/web:80");
  auto r = Forward(cfg::RouteMatch::REGEX, "/something(/|$)(.*)", "r");
  r.mutable_forward()->set_regex_rewrite("/\\2");  // ingress-nginx's rewrite-target example
  r.mutable_forward()->set_host_rewrite("backend.internal");
  *AddVhost(&s, "h.test")->add_routes() = r;
  *AddVhost(&s, "plain.test")->add_routes() = Forward(cfg::RouteMatch::PREFIX, "/", "plain");
  auto t = MustBuild(s);
  const RouteEntry* e = t->Match("h.test", "/something/new?x=1", NoHeaders());
  ASSERT_NE(e, nullptr);
  std::string out;
  ASSERT_TRUE(e->RewritePath("/something/new?x=1", &out));
  EXPECT_EQ(out, "/new?x=1");
  ASSERT_TRUE(e->RewritePath("/something", &out));
  EXPECT_EQ(out, "/");
  EXPECT_EQ(e->host_rewrite(), "backend.internal");
  const RouteEntry* p = t->Match("plain.test", "/a", NoHeaders());
  out = "untouched";
  EXPECT_FALSE(p->RewritePath("/a", &out));
  EXPECT_EQ(out, "untouched");
}

TEST(RouteEntry, WeightedClustersAndLabels) {
  cfg::Snapshot s;
  AddCluster(&s, "default/a:80");
  AddCluster(&s, "default/b:80");
  auto r = Forward(cfg::RouteMatch::PREFIX, "/", "split", "default/a:80");
  auto* b = r.mutable_forward()->add_clusters();
  b->set_cluster("default/b:80");
  b->set_weight(3);
  *AddVhost(&s, "h.test")->add_routes() = r;
  auto t = MustBuild(s);
  const RouteEntry* e = t->Match("h.test", "/", NoHeaders());
  ASSERT_EQ(e->clusters().size(), 2u);
  EXPECT_EQ(e->clusters()[1].index, 1u);
  int to_b = 0;
  for (uint64_t i = 0; i < 4000; ++i) to_b += e->PickCluster(i * 0x9E3779B97F4A7C15ull).index == 1 ? 1 : 0;
  EXPECT_NEAR(to_b, 3000, 60);
  EXPECT_EQ(e->PickCluster(0).name, "default/a:80");
  EXPECT_EQ(e->PickCluster(1).name, "default/b:80");
  EXPECT_EQ(e->labels().vhost, "h.test");
  EXPECT_EQ(e->labels().namespace_name, "default");
  EXPECT_EQ(e->labels().service, "web:80");
}

TEST(RouteEntry, RedirectAndDirectResponse) {
  cfg::Snapshot s;
  auto* vh = AddVhost(&s, "h.test");
  auto* r1 = vh->add_routes();
  r1->mutable_match()->set_path_kind(cfg::RouteMatch::EXACT);
  r1->mutable_match()->set_path("/old");
  r1->mutable_redirect()->set_status(308);
  r1->mutable_redirect()->set_path("/new");
  auto* r2 = vh->add_routes();
  r2->mutable_match()->set_path_kind(cfg::RouteMatch::PREFIX);
  r2->mutable_match()->set_path("/");
  r2->mutable_direct_response()->set_status(503);
  r2->mutable_direct_response()->set_body("down");
  auto t = MustBuild(s);
  const RouteEntry* a = t->Match("h.test", "/old", NoHeaders());
  EXPECT_EQ(a->action(), RouteEntry::Action::kRedirect);
  EXPECT_EQ(a->redirect().path(), "/new");
  const RouteEntry* b = t->Match("h.test", "/x", NoHeaders());
  EXPECT_EQ(b->action(), RouteEntry::Action::kDirectResponse);
  EXPECT_EQ(b->direct_response().body(), "down");
}

// Each invalid snapshot must fail with a reason that names the culprit.
TEST(RouteTable, ValidationReasons) {
  struct Case {
    const char* name;
    std::function<void(cfg::Snapshot*)> mutate;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"unknown cluster",
       [](cfg::Snapshot* s) {
         s->mutable_virtual_hosts(0)->mutable_routes(0)->mutable_forward()->mutable_clusters(0)->set_cluster(
             "default/nope:80");
       },
       "route 0 of vhost h.test: unknown cluster default/nope:80"},
      {"bad regex",
       [](cfg::Snapshot* s) {
         auto* m = s->mutable_virtual_hosts(0)->mutable_routes(0)->mutable_match();
         m->set_path_kind(cfg::RouteMatch::REGEX);
         m->set_path("/a(");
       },
       "route 0 of vhost h.test: path regex '/a(' does not compile"},
      {"zero weights",
       [](cfg::Snapshot* s) {
         auto* f = s->mutable_virtual_hosts(0)->mutable_routes(0)->mutable_forward();
         f->mutable_clusters(0)->set_weight(0);
         *f->add_clusters() = f->clusters(0);
       },
       "cluster weights sum to 0"},
      {"bad host", [](cfg::Snapshot* s) { s->mutable_virtual_hosts(0)->set_name("H.test"); },
       "vhost 'H.test': invalid character 'H'"},
      {"duplicate host", [](cfg::Snapshot* s) { *s->add_virtual_hosts() = s->virtual_hosts(0); },
       "duplicate vhost h.test"},
      {"unspecified kind",
       [](cfg::Snapshot* s) {
         s->mutable_virtual_hosts(0)->mutable_routes(0)->mutable_match()->set_path_kind(
             cfg::RouteMatch::PATH_KIND_UNSPECIFIED);
       },
       "path_kind is unspecified"},
      {"relative path",
       [](cfg::Snapshot* s) {
         s->mutable_virtual_hosts(0)->mutable_routes(0)->mutable_match()->set_path("api");
       },
       "path 'api' must start with '/'"},
      {"regex rewrite on prefix",
       [](cfg::Snapshot* s) {
         s->mutable_virtual_hosts(0)->mutable_routes(0)->mutable_forward()->set_regex_rewrite("/\\1");
       },
       "regex_rewrite needs a REGEX path"},
      {"rewrite group missing",
       [](cfg::Snapshot* s) {
         auto* r = s->mutable_virtual_hosts(0)->mutable_routes(0);
         r->mutable_match()->set_path_kind(cfg::RouteMatch::REGEX);
         r->mutable_forward()->set_regex_rewrite("/\\3");
       },
       "regex_rewrite '/\\3'"},
      {"redirect status",
       [](cfg::Snapshot* s) {
         s->mutable_virtual_hosts(0)->mutable_routes(0)->mutable_redirect()->set_status(200);
       },
       "redirect status 200"},
      {"no action", [](cfg::Snapshot* s) { s->mutable_virtual_hosts(0)->mutable_routes(0)->clear_forward(); },
       "route has no action"},
      {"unknown certificate",
       [](cfg::Snapshot* s) { s->mutable_virtual_hosts(0)->set_certificate("default/tls"); },
       "vhost h.test: unknown certificate default/tls"},
      {"bad default route",
       [](cfg::Snapshot* s) { s->mutable_default_routes(0)->mutable_match()->set_path(""); },
       "default route 0: path '' must start with '/'"},
      {"bad header regex",
       [](cfg::Snapshot* s) {
         auto* h = s->mutable_virtual_hosts(0)->mutable_routes(0)->mutable_match()->add_headers();
         h->set_name("x-a");
         h->set_regex("[");
       },
       "header x-a regex '[' does not compile"},
  };
  for (const Case& c : cases) {
    cfg::Snapshot s;
    AddCluster(&s, "default/web:80");
    *AddVhost(&s, "h.test")->add_routes() = Forward(cfg::RouteMatch::PREFIX, "/", "r");
    *s.add_default_routes() = Forward(cfg::RouteMatch::PREFIX, "/", "d");
    ASSERT_TRUE(RouteTable::Build(s).ok());
    c.mutate(&s);
    auto t = RouteTable::Build(s);
    ASSERT_FALSE(t.ok()) << c.name;
    EXPECT_NE(t.error().find(c.reason), std::string::npos) << c.name << ": " << t.error();
  }
}

}  // namespace
}  // namespace keel::router
