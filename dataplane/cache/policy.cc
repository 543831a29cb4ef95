#include "dataplane/cache/policy.h"

#include <algorithm>
#include <charconv>

namespace keel::cache {
namespace {

constexpr int64_t kHeuristicCap = 24 * 3600;  // §4.2.2 suggests a cap; one day, as Varnish/Squid

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool ParseU64(std::string_view s, uint64_t* out) {
  if (!IsDigits(s)) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

Directives RequestDirectives(const Request& req) {
  auto cc = req.headers.GetAll("cache-control");
  Directives d = ParseCacheControl(cc);
  // §5.4: Pragma: no-cache counts only when there is no Cache-Control.
  if (cc.empty()) {
    std::string pragma = req.headers.GetAll("pragma");
    for (auto el : SplitList(pragma)) {
      if (Lower(el) == "no-cache") d.no_cache = true;
    }
  }
  return d;
}

// must-revalidate, proxy-revalidate and s-maxage forbid serving stale content (§4.2.4).
bool NoStale(const Directives& cc) {
  return cc.must_revalidate || cc.proxy_revalidate || cc.s_maxage.has_value() || cc.no_cache;
}

std::string_view Opaque(std::string_view etag) {
  if (etag.size() > 2 && etag.substr(0, 2) == "W/") etag.remove_prefix(2);
  return etag;
}

void SetClock(Object* o, int64_t request_time, int64_t response_time, int64_t default_ttl_s) {
  o->request_time = request_time;
  o->response_time = response_time;
  auto date = o->headers.Get("date");
  auto parsed = date ? ParseHttpDate(*date) : std::nullopt;
  o->date_value = parsed ? *parsed : response_time;
  o->age_value = 0;
  if (auto age = o->headers.Get("age")) {
    uint64_t a = 0;
    if (ParseU64(*age, &a)) o->age_value = static_cast<int64_t>(std::min<uint64_t>(a, uint64_t{1} << 31));
  }
  o->cc = ParseCacheControl(o->headers.GetAll("cache-control"));
  o->vary.clear();
  std::string vary = o->headers.GetAll("vary");
  for (auto v : SplitList(vary)) o->vary.push_back(Lower(v));
  o->freshness_lifetime = FreshnessLifetime(o->status, o->headers, o->cc, response_time, default_ttl_s);
}

}  // namespace

bool HeuristicallyCacheable(int status) {
  switch (status) {
    case 200:
    case 203:
    case 204:
    case 206:
    case 300:
    case 301:
    case 308:
    case 404:
    case 405:
    case 410:
    case 414:
    case 501:
      return true;
    default:
      return false;
  }
}

const char* NotStorableReason(const Request& req, int status, const Fields& headers,
                              const StoreRules& rules) {
  // §3: only GET responses are stored here (HEAD is answered from a stored GET).
  if (req.method != "GET") return "method";
  // 206 would need combining partial content (§3.4); 304 only freshens (§4.3.4).
  if (status < 200 || status == 206 || status == 304) return "status";
  Directives cc = ParseCacheControl(headers.GetAll("cache-control"));
  Directives rcc = RequestDirectives(req);
  if (cc.no_store && !cc.must_understand) return "no-store";
  if (rcc.no_store) return "request no-store";
  // §5.2.2.7: a shared cache never stores `private` (unqualified) responses.
  if (cc.private_) return "private";
  // §3.5: responses to authenticated requests only with explicit permission.
  if (req.headers.Has("authorization") && !(cc.must_revalidate || cc.public_ || cc.s_maxage)) {
    return "authorization";
  }
  if (headers.Has("set-cookie") && !rules.allow_set_cookie) return "set-cookie";
  std::string vary = headers.GetAll("vary");
  for (auto v : SplitList(vary)) {
    if (v == "*") return "vary *";  // can never match a later request (§4.1)
  }
  // §3: the status must be understood; must-understand makes that strict (§5.2.2.3).
  bool understood = HeuristicallyCacheable(status) || status == 302 || status == 303 || status == 307;
  if (!understood && (cc.must_understand || status >= 500 || status == 401 || status == 407)) return "status";
  bool explicit_fresh = cc.max_age || cc.s_maxage || headers.Has("expires");
  if (!explicit_fresh && !cc.public_ && !HeuristicallyCacheable(status)) return "no freshness information";
  return nullptr;
}

int64_t FreshnessLifetime(int status, const Fields& headers, const Directives& cc, int64_t response_time,
                          int64_t default_ttl_s) {
  if (cc.s_maxage) return *cc.s_maxage;
  if (cc.max_age) return *cc.max_age;
  auto date_s = headers.Get("date");
  auto date = date_s ? ParseHttpDate(*date_s) : std::nullopt;
  int64_t date_value = date ? *date : response_time;
  if (auto expires = headers.Get("expires")) {
    // §5.3: an invalid Expires ("0") means already expired.
    auto e = ParseHttpDate(*expires);
    return e ? std::max<int64_t>(0, *e - date_value) : 0;
  }
  if (!HeuristicallyCacheable(status) && !cc.public_) return 0;
  if (auto lm_s = headers.Get("last-modified")) {
    auto lm = ParseHttpDate(*lm_s);
    if (lm && *lm < date_value) return std::min<int64_t>((date_value - *lm) / 10, kHeuristicCap);
  }
  return default_ttl_s;
}

Object MakeObject(int status, Fields headers, int64_t request_time, int64_t response_time,
                  int64_t default_ttl_s) {
  Object o;
  o.status = status;
  o.headers = std::move(headers);
  SetClock(&o, request_time, response_time, default_ttl_s);
  return o;
}

int64_t CurrentAge(const Object& obj, int64_t now) {
  int64_t apparent_age = std::max<int64_t>(0, obj.response_time - obj.date_value);
  int64_t response_delay = std::max<int64_t>(0, obj.response_time - obj.request_time);
  int64_t corrected_age_value = obj.age_value + response_delay;
  int64_t corrected_initial_age = std::max(apparent_age, corrected_age_value);
  int64_t resident_time = std::max<int64_t>(0, now - obj.response_time);
  return corrected_initial_age + resident_time;
}

Verdict Evaluate(const Object& obj, const Request& req, int64_t now) {
  Directives rcc = RequestDirectives(req);
  if (rcc.no_cache || obj.cc.no_cache || !obj.cc.no_cache_fields.empty()) return Verdict::kRevalidate;
  int64_t age = CurrentAge(obj, now);
  if (rcc.max_age && age > *rcc.max_age) return Verdict::kRevalidate;
  if (rcc.min_fresh && obj.freshness_lifetime - age < *rcc.min_fresh) return Verdict::kRevalidate;
  if (obj.freshness_lifetime > age) return Verdict::kFresh;
  int64_t staleness = age - obj.freshness_lifetime;
  if (NoStale(obj.cc)) return Verdict::kRevalidate;
  // §5.2.1.2: the client accepts a stale response (the caller reports it as STALE).
  if (rcc.max_stale_any || (rcc.max_stale && staleness <= *rcc.max_stale))
    return Verdict::kStaleWhileRevalidate;
  if (obj.cc.stale_while_revalidate && staleness <= *obj.cc.stale_while_revalidate) {
    return Verdict::kStaleWhileRevalidate;
  }
  return Verdict::kRevalidate;
}

bool UsableOnError(const Object& obj, int64_t now, int64_t grace_s, bool no_response) {
  if (NoStale(obj.cc)) return false;
  int64_t staleness = CurrentAge(obj, now) - obj.freshness_lifetime;
  if (staleness <= 0) return true;
  if (obj.cc.stale_if_error && staleness <= *obj.cc.stale_if_error) return true;
  return no_response && grace_s > 0 && staleness <= grace_s;
}

bool HasValidator(const Object& obj) { return obj.headers.Has("etag") || obj.headers.Has("last-modified"); }

std::string ConditionalHeaders(const Object& obj) {
  std::string out;
  if (auto etag = obj.headers.Get("etag")) out += "if-none-match: " + std::string(*etag) + "\r\n";
  if (auto lm = obj.headers.Get("last-modified")) out += "if-modified-since: " + std::string(*lm) + "\r\n";
  return out;
}

Object Freshen(const Object& stored, const Fields& not_modified, int64_t request_time, int64_t response_time,
               int64_t default_ttl_s) {
  Object o = stored;
  for (const auto& [name, value] : not_modified.list) {
    // §3.2: never Content-Length; and not what the stored body depends on (its coding,
    // the variant key, the validator we may have weakened after compressing it).
    if (name == "content-length" || name == "content-encoding" || name == "vary" || name == "etag") continue;
    o.headers.Remove(name);
  }
  for (const auto& [name, value] : not_modified.list) {
    if (name == "content-length" || name == "content-encoding" || name == "vary" || name == "etag") continue;
    o.headers.Add(name, value);
  }
  SetClock(&o, request_time, response_time, default_ttl_s);
  return o;
}

bool EtagListMatches(std::string_view list, std::string_view etag) {
  for (auto el : SplitList(list)) {
    if (el == "*") return true;
    if (Opaque(el) == Opaque(etag)) return true;
  }
  return false;
}

bool ClientNotModified(const Object& obj, const Request& req) {
  if ((req.method != "GET" && req.method != "HEAD") || obj.status != 200) return false;
  std::string inm = req.headers.GetAll("if-none-match");
  if (!inm.empty()) {
    auto etag = obj.headers.Get("etag");
    return etag && EtagListMatches(inm, *etag);
  }
  auto ims_s = req.headers.Get("if-modified-since");
  if (!ims_s) return false;
  auto ims = ParseHttpDate(*ims_s);
  if (!ims) return false;  // RFC 9110 §13.1.3: an invalid date is ignored
  auto lm_s = obj.headers.Get("last-modified");
  auto lm = lm_s ? ParseHttpDate(*lm_s) : std::nullopt;
  return (lm ? *lm : obj.date_value) <= *ims;
}

RangeOutcome EvaluateRange(const Object& obj, const Request& req, ByteRange* out) {
  if (req.method != "GET" || obj.status != 200) return RangeOutcome::kFull;
  auto range = req.headers.Get("range");
  if (!range) return RangeOutcome::kFull;
  if (auto if_range = req.headers.Get("if-range")) {
    // §13.1.5: an entity-tag must match strongly, a date exactly; else the whole 200.
    auto etag = obj.headers.Get("etag");
    if (!if_range->empty() && (if_range->front() == '"' || if_range->substr(0, 2) == "W/")) {
      if (!etag || etag->substr(0, 2) == "W/" || *etag != *if_range) return RangeOutcome::kFull;
    } else {
      auto lm = obj.headers.Get("last-modified");
      if (!lm || *lm != *if_range) return RangeOutcome::kFull;
    }
  }
  std::string_view r = *range;
  if (r.size() < 6 || Lower(r.substr(0, 6)) != "bytes=") return RangeOutcome::kFull;
  r.remove_prefix(6);
  if (r.find(',') != std::string_view::npos) return RangeOutcome::kFull;  // multipart: not served from cache
  auto dash = r.find('-');
  if (dash == std::string_view::npos) return RangeOutcome::kFull;
  std::string_view a = r.substr(0, dash), b = r.substr(dash + 1);
  uint64_t len = obj.body.size();
  uint64_t first = 0, last = 0;
  if (a.empty()) {  // suffix: the last b bytes
    uint64_t n = 0;
    if (!ParseU64(b, &n)) return RangeOutcome::kFull;
    if (n == 0 || len == 0) return RangeOutcome::kUnsatisfiable;
    first = len > n ? len - n : 0;
    last = len - 1;
  } else {
    if (!ParseU64(a, &first)) return RangeOutcome::kFull;
    if (b.empty()) {
      last = len ? len - 1 : 0;
    } else {
      if (!ParseU64(b, &last) || last < first) return RangeOutcome::kFull;  // invalid: ignored
      if (len) last = std::min(last, len - 1);
    }
    if (first >= len) return RangeOutcome::kUnsatisfiable;
  }
  out->first = first;
  out->last = last;
  return RangeOutcome::kPartial;
}

}  // namespace keel::cache
