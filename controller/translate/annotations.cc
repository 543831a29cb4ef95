// Annotation parsing (table in README.md). Defaults follow ingress-nginx where we map
// its annotations, so migrated manifests behave the same.
#include "controller/translate/annotations.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <forward_list>
#include <set>

#include "controller/translate/values.h"
#include "controller/translate/version.h"

namespace keel::translate {
namespace {

using config::v1::LbPolicy;
using config::v1::RedirectAction;
using config::v1::UpstreamProtocol;

constexpr std::string_view kKeelPrefix = "keel.dev/";

// ingress-nginx annotations we know and deliberately do not implement. Snippets are
// never supported: arbitrary proxy config from any Ingress author is how
// CVE-2021-25742 and CVE-2025-1974 happened.
constexpr std::string_view kUnsupported[] = {
    "configuration-snippet",
    "server-snippet",
    "stream-snippet",
    // Inert without auth-url (which rejects the Ingress): see auth.cc.
    "auth-snippet",
    // Only meaningful with auth-tls-secret / auth-url, which reject the Ingress.
    "auth-tls-verify-client",
    "auth-tls-verify-depth",
    "auth-tls-error-page",
    "auth-tls-pass-certificate-to-upstream",
    "auth-response-headers",
    "auth-method",
    "custom-http-errors",
    "default-backend",
    "mirror-target",
    "mirror-uri",
    "enable-modsecurity",  // with modsecurity-snippet the Ingress is rejected (auth.cc)
    "server-alias",
    "canary-by-cookie",
    "upstream-hash-by-subset",
    "x-forwarded-prefix",
    "proxy-ssl-secret",
    "from-to-www-redirect",
    "service-upstream",
};

class Reader {
 public:
  // One pass over the annotations picks out ours; lookups then scan that short list
  // instead of building a key string per known annotation (60+ per Ingress at 10k
  // Ingresses was a measurable share of a full translation).
  Reader(const store::Ingress& ing, const TranslateOptions& opts, Diagnostics* diags)
      : ing_(ing), nginx_(opts.annotation_prefix + "/"), diags_(diags) {
    for (const auto& [key, value] : ing.meta.annotations) {
      std::string_view k = key;
      if (k.size() > nginx_.size() && k.compare(0, nginx_.size(), nginx_) == 0) {
        ours_.push_back({false, k.substr(nginx_.size()), &value});
      } else if (k.size() > kKeelPrefix.size() && k.compare(0, kKeelPrefix.size(), kKeelPrefix) == 0) {
        ours_.push_back({true, k.substr(kKeelPrefix.size()), &value});
      }
    }
  }

  // The trimmed value of nginx annotation `name`, or nullptr.
  const std::string* Nginx(std::string_view name) { return Find(false, name); }
  const std::string* Keel(std::string_view name) { return Find(true, name); }
  // Names (after the prefix) of the ingress-nginx annotations present.
  std::vector<std::string_view> NginxNames() const {
    std::vector<std::string_view> out;
    for (const Entry& e : ours_) {
      if (!e.keel) out.push_back(e.name);
    }
    return out;
  }

  void Invalid(std::string_view name, bool keel, const std::string& value, const std::string& why) {
    diags_->Ingress(ing_, Severity::kWarning, "InvalidAnnotation",
                    (keel ? std::string(kKeelPrefix) : nginx_) + std::string(name) + ": \"" + value + "\" " +
                        why + "; ignored");
  }
  void Unsupported(const std::string& key, const std::string& why) {
    diags_->Ingress(ing_, Severity::kWarning, "UnsupportedAnnotation", key + ": " + why);
  }

  std::optional<bool> Bool(std::string_view name, bool keel = false) {
    const std::string* v = keel ? Keel(name) : Nginx(name);
    if (v == nullptr) return std::nullopt;
    auto b = ParseBool(*v);
    if (!b) Invalid(name, keel, *v, "is not a boolean");
    return b;
  }
  std::optional<uint64_t> Uint(std::string_view name, uint64_t max, bool keel = false) {
    const std::string* v = keel ? Keel(name) : Nginx(name);
    if (v == nullptr) return std::nullopt;
    auto n = ParseUint(*v, max);
    if (!n) Invalid(name, keel, *v, "is not an integer in 0-" + std::to_string(max));
    return n;
  }
  std::optional<uint32_t> Seconds(std::string_view name, bool keel = false) {
    const std::string* v = keel ? Keel(name) : Nginx(name);
    if (v == nullptr) return std::nullopt;
    auto n = ParseSeconds(*v);
    if (!n) Invalid(name, keel, *v, "is not a duration in seconds (30, 30s, 5m, 1h)");
    return n;
  }
  std::optional<uint64_t> Size(std::string_view name, bool keel = false) {
    const std::string* v = keel ? Keel(name) : Nginx(name);
    if (v == nullptr) return std::nullopt;
    auto n = ParseSize(*v);
    if (!n) Invalid(name, keel, *v, "is not a size (8m, 512k, 1g)");
    return n;
  }

  const std::string& nginx_prefix() const { return nginx_; }
  const store::Ingress& ingress() const { return ing_; }

 private:
  struct Entry {
    bool keel;
    std::string_view name;
    const std::string* value;
  };

  const std::string* Find(bool keel, std::string_view name) {
    for (const Entry& e : ours_) {
      if (e.keel == keel && e.name == name) {
        trimmed_.push_front(std::string(Trim(*e.value)));
        return &trimmed_.front();
      }
    }
    return nullptr;
  }

  const store::Ingress& ing_;
  const std::string nginx_;
  Diagnostics* diags_;
  std::vector<Entry> ours_;
  // Stable addresses for the values handed out; forward_list allocates nothing until
  // used (a deque allocates on construction, once per Ingress).
  std::forward_list<std::string> trimmed_;
};

void ParseRouting(Reader& r, IngressPolicy* p) {
  if (const std::string* v = r.Nginx("rewrite-target")) {
    bool bad = v->empty();
    for (char c : *v) bad |= static_cast<unsigned char>(c) < 0x21 || c == 0x7f;
    if (bad) {
      r.Invalid("rewrite-target", false, *v, "is not a path");
    } else {
      p->rewrite_target = *v;
      for (size_t i = 0; i + 1 < v->size(); ++i) {
        if ((*v)[i] == '$' && (*v)[i + 1] >= '0' && (*v)[i + 1] <= '9') p->rewrite_has_captures = true;
      }
    }
  }
  p->use_regex = r.Bool("use-regex").value_or(false);
  if (const std::string* v = r.Nginx("upstream-vhost")) {
    bool ok = !v->empty();
    for (char c : *v) ok &= std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':';
    if (ok) {
      p->host_rewrite = Lower(*v);
    } else {
      r.Invalid("upstream-vhost", false, *v, "is not a host name (nginx variables are not supported)");
    }
  }
  if (const std::string* v = r.Nginx("app-root")) {
    if (v->empty() || (*v)[0] != '/' || v->find_first_of(" \t#") != std::string::npos) {
      r.Invalid("app-root", false, *v, "must be a path starting with \"/\"");
    } else {
      p->app_root = *v;
    }
  }
  // permanent-redirect wins over temporal-redirect, as in ingress-nginx.
  struct Kind {
    const char* url;
    const char* code;
    uint32_t default_code;
  };
  for (Kind k : {Kind{"permanent-redirect", "permanent-redirect-code", 301},
                 Kind{"temporal-redirect", "temporal-redirect-code", 302}}) {
    const std::string* v = r.Nginx(k.url);
    if (v == nullptr) continue;
    auto target = ParseRedirectUrl(*v);
    if (!target) {
      r.Invalid(k.url, false, *v, "is not an absolute http(s) URL");
      continue;
    }
    uint32_t code = k.default_code;
    if (const std::string* c = r.Nginx(k.code)) {
      auto n = ParseUint(*c, 999);
      if (n && (*n == 301 || *n == 302 || *n == 303 || *n == 307 || *n == 308)) {
        code = static_cast<uint32_t>(*n);
      } else {
        r.Invalid(k.code, false, *c, "is not one of 301, 302, 303, 307, 308");
      }
    }
    if (p->redirect) continue;
    RedirectAction a;
    a.set_status(code);
    a.set_scheme(target->scheme);
    a.set_host(target->host);
    a.set_port(target->port);
    a.set_path(target->path);
    a.set_strip_query(true);
    p->redirect = std::move(a);
  }
}

void ParseTls(Reader& r, const TranslateOptions& opts, IngressPolicy* p) {
  auto unsupported_on = [&](std::string_view name) {
    r.Unsupported(r.nginx_prefix() + std::string(name),
                  "\"true\" cannot turn the redirect on while it is off globally (--ssl-redirect=false); "
                  "ignored");
  };
  if (auto v = r.Bool("ssl-redirect")) {
    if (!*v) {
      p->route.set_no_ssl_redirect(true);
    } else if (!opts.ssl_redirect) {
      unsupported_on("ssl-redirect");
    }
  }
  if (auto v = r.Bool("force-ssl-redirect"); v && *v) {
    p->force_ssl_redirect = true;
    p->route.set_no_ssl_redirect(false);
    if (!opts.ssl_redirect) unsupported_on("force-ssl-redirect");
  }
}

void ParseUpstream(Reader& r, IngressPolicy* p) {
  config::v1::Cluster& c = p->cluster;
  if (const std::string* v = r.Nginx("backend-protocol")) {
    std::string u = *v;
    for (char& ch : u) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    p->protocol_set = true;
    if (u == "HTTP") {
      c.set_protocol(config::v1::HTTP1);
    } else if (u == "HTTPS") {
      c.set_protocol(config::v1::HTTP1);
      c.set_upstream_tls(true);
    } else if (u == "GRPC" || u == "H2C") {
      c.set_protocol(config::v1::H2C);
    } else if (u == "GRPCS") {
      c.set_protocol(config::v1::H2);
      c.set_upstream_tls(true);
    } else {
      p->protocol_set = false;
      r.Invalid("backend-protocol", false, *v, "is not one of HTTP, HTTPS, GRPC, GRPCS, H2C");
    }
  }
  // Built on the stack and attached only when set (mutable_lb() would allocate for every Ingress).
  LbPolicy lb;
  if (const std::string* v = r.Nginx("load-balance")) {
    if (*v == "round_robin") {
      lb.set_kind(LbPolicy::ROUND_ROBIN);
    } else if (*v == "ewma") {
      lb.set_kind(LbPolicy::PEAK_EWMA);
    } else {
      r.Invalid("load-balance", false, *v, "is not round_robin or ewma");
    }
  }
  if (const std::string* v = r.Nginx("upstream-hash-by")) {
    config::v1::HashOn h;
    bool ok = true;
    if (*v == "$request_uri") {
      h.set_uri(true);
    } else if (*v == "$remote_addr" || *v == "$binary_remote_addr") {
      h.set_client_ip(true);
    } else if (v->rfind("$http_", 0) == 0 && IsHeaderName(v->substr(6))) {
      std::string name = Lower(v->substr(6));
      for (char& ch : name) ch = ch == '_' ? '-' : ch;
      h.set_header(name);
    } else if (v->rfind("$cookie_", 0) == 0 && IsHeaderName(v->substr(8))) {
      h.set_cookie(v->substr(8));
    } else {
      ok = false;
      r.Invalid("upstream-hash-by", false, *v,
                "is not one of $request_uri, $remote_addr, $http_<name>, $cookie_<name>");
    }
    if (ok) {
      lb.set_kind(LbPolicy::RING_HASH);
      *lb.mutable_hash_on() = h;
    }
  }
  if (const std::string* v = r.Keel("load-balance")) {
    static const std::pair<std::string_view, LbPolicy::Kind> kKinds[] = {
        {"round_robin", LbPolicy::ROUND_ROBIN}, {"least_request", LbPolicy::LEAST_REQUEST},
        {"peak_ewma", LbPolicy::PEAK_EWMA},     {"ring_hash", LbPolicy::RING_HASH},
        {"maglev", LbPolicy::MAGLEV},           {"random", LbPolicy::RANDOM}};
    bool found = false;
    for (const auto& [name, kind] : kKinds) {
      if (*v == name) {
        lb.set_kind(kind);
        found = true;
      }
    }
    if (!found) {
      r.Invalid("load-balance", true, *v,
                "is not one of round_robin, least_request, peak_ewma, ring_hash, maglev, random");
    } else if (lb.kind() != LbPolicy::RING_HASH && lb.kind() != LbPolicy::MAGLEV) {
      lb.clear_hash_on();
    }
  }
  if (const std::string* v = r.Nginx("affinity")) {
    if (*v != "cookie") {
      r.Invalid("affinity", false, *v, "is not \"cookie\"");
    } else {
      config::v1::StickyCookie& s = *lb.mutable_sticky();
      s.set_name("INGRESSCOOKIE");
      if (const std::string* n = r.Nginx("session-cookie-name")) {
        if (IsHeaderName(*n)) {
          s.set_name(*n);
        } else {
          r.Invalid("session-cookie-name", false, *n, "is not a cookie name");
        }
      }
      if (auto age = r.Uint("session-cookie-max-age", 0xffffffffu))
        s.set_max_age_s(static_cast<uint32_t>(*age));
      if (const std::string* path = r.Nginx("session-cookie-path")) {
        if (!path->empty() && (*path)[0] == '/' && path->find_first_of(" ;,") == std::string::npos) {
          s.set_path(*path);
        } else {
          r.Invalid("session-cookie-path", false, *path, "is not a cookie path");
        }
      }
      if (auto secure = r.Bool("session-cookie-secure")) s.set_secure(*secure);
    }
  }
  if (lb.ByteSizeLong() != 0) *c.mutable_lb() = lb;
  config::v1::Timeouts t;
  if (auto s = r.Seconds("proxy-connect-timeout")) t.set_connect_ms(*s * 1000);
  if (auto s = r.Seconds("proxy-read-timeout")) t.set_read_ms(*s * 1000);
  if (auto s = r.Seconds("proxy-send-timeout")) t.set_send_ms(*s * 1000);
  if (t.ByteSizeLong() != 0) *c.mutable_timeouts() = t;
}

void ParseRetry(Reader& r, IngressPolicy* p) {
  config::v1::RetryPolicy retry;
  bool set = false;
  bool off = false;
  if (const std::string* v = r.Nginx("proxy-next-upstream")) {
    std::set<uint32_t> statuses;
    for (std::string_view tok : SplitList(*v, ' ')) {
      if (tok == "error" || tok == "timeout") {
        retry.set_on_connect_failure(true);
      } else if (tok == "off") {
        off = true;
      } else if (tok == "invalid_header" || tok == "non_idempotent") {
        // invalid_header is always a failure for us; non-idempotent retries are never done.
      } else if (tok.rfind("http_", 0) == 0 && ParseUint(tok.substr(5), 599).value_or(0) >= 400) {
        statuses.insert(static_cast<uint32_t>(*ParseUint(tok.substr(5))));
      } else {
        r.Invalid("proxy-next-upstream", false, *v, "has unknown condition \"" + std::string(tok) + "\"");
      }
    }
    for (uint32_t s : statuses) retry.add_on_statuses(s);
    retry.set_num_retries(2);  // ingress-nginx's default proxy-next-upstream-tries is 3
    set = true;
  }
  if (auto tries = r.Uint("proxy-next-upstream-tries", 100)) {
    if (*tries == 0) {
      r.Invalid("proxy-next-upstream-tries", false, "0", "(unlimited) is not supported: give a bound");
    } else {
      retry.set_num_retries(static_cast<uint32_t>(*tries - 1));
      if (retry.on_statuses_size() == 0) retry.set_on_connect_failure(true);
      set = true;
    }
  }
  if (off) {
    retry.Clear();
    retry.set_num_retries(0);
    set = true;
  }
  if (set) *p->route.mutable_retry() = retry;
}

void ParseLimits(Reader& r, IngressPolicy* p) {
  if (const std::string* v = r.Nginx("proxy-body-size")) {
    auto n = ParseSize(*v);
    if (!n) {
      r.Invalid("proxy-body-size", false, *v, "is not a size (8m, 512k, 1g)");
    } else {
      // nginx's "0" disables the limit; 0 in the contract means "the global limit".
      p->route.set_max_request_body_bytes(*n == 0 ? UINT64_MAX : *n);
    }
  }
  for (auto [name, deny] : {std::pair<const char*, bool>{"whitelist-source-range", false},
                            {"allowlist-source-range", false},
                            {"denylist-source-range", true}}) {
    const std::string* v = r.Nginx(name);
    if (v == nullptr) continue;
    size_t valid = 0;
    for (std::string_view item : SplitList(*v)) {
      auto cidr = ParseCidr(item);
      if (!cidr) {
        r.Invalid(name, false, std::string(item), "is not an IP address or CIDR");
        continue;
      }
      ++valid;
      if (deny) {
        p->route.add_deny_cidrs(*cidr);
      } else {
        p->route.add_allow_cidrs(*cidr);
      }
    }
    if (!deny && valid == 0) p->deny_all = true;
  }
  config::v1::RateLimit rl;
  if (auto rps = r.Uint("limit-rps", 1000000)) {
    rl.set_requests_per_second(static_cast<uint32_t>(*rps));
    uint64_t mult = r.Uint("limit-burst-multiplier", 1000).value_or(5);
    rl.set_burst(static_cast<uint32_t>(*rps * mult));
  }
  if (auto conns = r.Uint("limit-connections", 1000000)) rl.set_connections(static_cast<uint32_t>(*conns));
  if (rl.ByteSizeLong() != 0) *p->route.mutable_rate_limit() = rl;
}

bool ValidOrigin(std::string_view o) {
  if (o == "*") return true;
  size_t sep = o.find("://");
  if (sep == std::string_view::npos) return false;
  std::string_view scheme = o.substr(0, sep);
  if (scheme != "http" && scheme != "https") return false;
  std::string_view rest = o.substr(sep + 3);
  if (rest.rfind("*.", 0) == 0) rest.remove_prefix(2);
  if (rest.empty()) return false;
  for (char c : rest) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':')) return false;
  }
  return true;
}

void ParseCors(Reader& r, IngressPolicy* p) {
  if (!r.Bool("enable-cors").value_or(false)) return;
  config::v1::CorsPolicy& c = *p->route.mutable_cors();
  c.set_enabled(true);
  c.add_allow_origins("*");
  if (const std::string* v = r.Nginx("cors-allow-origin")) {
    std::vector<std::string> origins;
    for (std::string_view o : SplitList(*v)) {
      if (ValidOrigin(o)) {
        origins.emplace_back(o);
      } else {
        r.Invalid("cors-allow-origin", false, std::string(o),
                  "is not \"*\" or an origin like https://a.example");
      }
    }
    if (!origins.empty()) {
      c.clear_allow_origins();
      for (auto& o : origins) c.add_allow_origins(o);
    }
  }
  c.set_allow_methods("GET, PUT, POST, DELETE, PATCH, OPTIONS");
  if (const std::string* v = r.Nginx("cors-allow-methods")) {
    bool ok = !SplitList(*v).empty();
    for (std::string_view m : SplitList(*v)) ok &= IsHeaderName(m);
    if (ok) {
      c.set_allow_methods(*v);
    } else {
      r.Invalid("cors-allow-methods", false, *v, "is not a comma-separated list of methods");
    }
  }
  c.set_allow_headers(
      "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,"
      "Authorization");
  for (auto [name, setter] : {std::pair<const char*, void (config::v1::CorsPolicy::*)(const std::string&)>{
                                  "cors-allow-headers", &config::v1::CorsPolicy::set_allow_headers},
                              {"cors-expose-headers", &config::v1::CorsPolicy::set_expose_headers}}) {
    const std::string* v = r.Nginx(name);
    if (v == nullptr) continue;
    bool ok = !SplitList(*v).empty();
    for (std::string_view h : SplitList(*v)) ok &= IsHeaderName(h);
    if (ok) {
      (c.*setter)(*v);
    } else {
      r.Invalid(name, false, *v, "is not a comma-separated list of header names");
    }
  }
  c.set_allow_credentials(r.Bool("cors-allow-credentials").value_or(true));
  c.set_max_age_s(static_cast<uint32_t>(r.Uint("cors-max-age", 0xffffffffu).value_or(1728000)));
}

void ParseKeel(Reader& r, IngressPolicy* p) {
  if (auto v = r.Bool("compression", true)) p->route.set_compression(*v);
  config::v1::CachePolicy cache;
  cache.set_enabled(r.Bool("cache", true).value_or(false));
  if (auto s = r.Seconds("cache-default-ttl", true)) cache.set_default_ttl_s(*s);
  if (auto s = r.Seconds("cache-grace", true)) cache.set_grace_s(*s);
  if (auto n = r.Size("cache-max-object-size", true)) cache.set_max_object_bytes(*n);
  if (auto b = r.Bool("cache-allow-set-cookie", true)) cache.set_allow_set_cookie(*b);
  if (const std::string* v = r.Keel("cache-key-headers")) {
    bool ok = !SplitList(*v).empty();
    for (std::string_view h : SplitList(*v)) ok &= IsHeaderName(h);
    if (ok) {
      for (std::string_view h : SplitList(*v)) cache.add_key_headers(std::string(h));
    } else {
      r.Invalid("cache-key-headers", true, *v, "is not a comma-separated list of header names");
    }
  }
  if (cache.enabled()) *p->route.mutable_cache() = cache;
}

void ParseCanary(Reader& r, IngressPolicy* p) {
  if (!r.Bool("canary").value_or(false)) return;
  CanarySettings& c = p->canary;
  c.enabled = true;
  if (auto total = r.Uint("canary-weight-total", 1000000)) {
    if (*total == 0) {
      r.Invalid("canary-weight-total", false, "0", "must be at least 1");
    } else {
      c.weight_total = static_cast<uint32_t>(*total);
    }
  }
  if (auto w = r.Uint("canary-weight", 1000000)) {
    if (*w > c.weight_total) {
      r.Invalid("canary-weight", false, std::to_string(*w),
                "is larger than canary-weight-total (" + std::to_string(c.weight_total) + ")");
    } else {
      c.weight = static_cast<uint32_t>(*w);
    }
  }
  if (const std::string* h = r.Nginx("canary-by-header")) {
    if (!IsHeaderName(*h)) {
      r.Invalid("canary-by-header", false, *h, "is not a header name");
    } else {
      c.header = Lower(*h);
      c.header_value = "always";
      if (const std::string* v = r.Nginx("canary-by-header-value")) c.header_value = *v;
      if (const std::string* pat = r.Nginx("canary-by-header-pattern")) {
        RE2::Options opts;
        opts.set_log_errors(false);
        RE2 re(*pat, opts);
        if (re.ok()) {
          c.header_pattern = *pat;
        } else {
          r.Invalid("canary-by-header-pattern", false, *pat, "is not a valid RE2 regular expression");
        }
      }
    }
  }
}

}  // namespace

IngressPolicy ParseAnnotations(const store::Ingress& ingress, const TranslateOptions& options,
                               Diagnostics* diags) {
  IngressPolicy p;
  Reader r(ingress, options, diags);
  ParseRouting(r, &p);
  ParseTls(r, options, &p);
  ParseUpstream(r, &p);
  ParseRetry(r, &p);
  ParseLimits(r, &p);
  ParseCors(r, &p);
  ParseKeel(r, &p);
  ParseCanary(r, &p);
  p.auth = ParseAuth([&r](std::string_view name) { return r.Nginx(name); }, ingress, r.nginx_prefix(), diags);
  for (std::string_view name : r.NginxNames()) {
    if (std::find(std::begin(kUnsupported), std::end(kUnsupported), name) == std::end(kUnsupported)) continue;
    r.Unsupported(r.nginx_prefix() + std::string(name),
                  name.find("snippet") != std::string_view::npos
                      ? "snippets are never supported (arbitrary proxy configuration); ignored"
                      : "not supported by keel; ignored");
  }
  // Computed once here rather than per route: see Builder::EnsureCluster.
  std::string variant = DeterministicBytes(p.cluster);
  if (!variant.empty()) p.cluster_suffix = "~" + DigestHex(Hash128(variant)).substr(0, 16);
  return p;
}

}  // namespace keel::translate
