// Cache fuzz checks (see cache_driver.h). Invariants, not expected values: ranges of
// numbers, views inside their input, round trips, and rules that must agree.
#include "tests/fuzz/cache_driver.h"

#include <cstdint>

#include "dataplane/cache/fields.h"
#include "dataplane/cache/policy.h"
#include "dataplane/cache/without_origin.h"

namespace keel::cache::fuzz {
namespace {

constexpr int64_t kMaxDelta = int64_t{1} << 31;
constexpr int64_t kYear10000 = 253402300800;  // 10000-01-01T00:00:00Z
constexpr int64_t T = 1700000000;

bool InDelta(const std::optional<int64_t>& v) { return !v || (*v >= 0 && *v <= kMaxDelta); }

bool LowerNonEmpty(const std::vector<std::string>& names) {
  for (const auto& n : names) {
    if (n.empty() || n != Lower(n)) return false;
  }
  return true;
}

// "name: value" lines up to a blank line; returns what follows it.
std::string_view ReadFields(std::string_view data, Fields* out) {
  while (!data.empty()) {
    size_t eol = data.find('\n');
    std::string_view line = data.substr(0, eol);
    data = eol == std::string_view::npos ? std::string_view() : data.substr(eol + 1);
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    out->Add(line.substr(0, colon), value);
  }
  return data;
}

}  // namespace

std::string CheckFieldValue(std::string_view data) {
  for (auto el : SplitList(data)) {
    if (el.empty()) return "SplitList gave an empty element";
    if (el.data() < data.data() || el.data() + el.size() > data.data() + data.size())
      return "SplitList element outside the input";
    if (el.front() == ' ' || el.front() == '\t' || el.back() == ' ' || el.back() == '\t')
      return "SplitList element not trimmed";
  }
  Directives d = ParseCacheControl(data);
  if (!InDelta(d.max_age) || !InDelta(d.s_maxage) || !InDelta(d.min_fresh) || !InDelta(d.max_stale) ||
      !InDelta(d.stale_while_revalidate) || !InDelta(d.stale_if_error))
    return "Cache-Control delta-seconds outside [0, 2^31]";
  if (!LowerNonEmpty(d.private_fields) || !LowerNonEmpty(d.no_cache_fields))
    return "private=/no-cache= field names not lower-case and non-empty";
  if (auto t = ParseHttpDate(data); t && *t >= 0 && *t < kYear10000) {
    std::string formatted = FormatHttpDate(*t);
    auto back = ParseHttpDate(formatted);
    if (!back || *back != *t) return "HTTP-date does not round-trip: " + formatted;
  }
  return "";
}

std::string CheckPolicy(std::string_view data) {
  if (data.size() < 5) return "";
  static constexpr int kStatuses[] = {200, 203, 204, 206, 301, 302, 304, 404, 410, 500, 502, 503, 999, 100};
  int status = kStatuses[static_cast<uint8_t>(data[0]) % (sizeof kStatuses / sizeof kStatuses[0])];
  int64_t now = T + static_cast<uint8_t>(data[1]);
  int64_t grace = static_cast<uint8_t>(data[2]);
  static constexpr const char* kMethods[] = {"GET", "HEAD", "POST"};
  Request req{kMethods[static_cast<uint8_t>(data[3]) % 3], {}};
  size_t body_len = static_cast<uint8_t>(data[4]);
  Fields resp;
  std::string_view rest = ReadFields(data.substr(5), &resp);
  ReadFields(rest, &req.headers);

  StoreRules rules{static_cast<int64_t>(body_len), body_len % 2 == 1};
  NotStorableReason(req, status, resp, rules);
  Object o = MakeObject(status, resp, T - 1, T, rules.default_ttl_s);
  o.body.assign(body_len, 'b');
  if (o.freshness_lifetime < 0) return "negative freshness lifetime";
  if (o.age_value < 0 || o.age_value > kMaxDelta) return "Age outside [0, 2^31]";
  if (!LowerNonEmpty(o.vary)) return "Vary names not lower-case and non-empty";
  int64_t age = CurrentAge(o, now);
  if (age < 0) return "negative current age";
  if (CurrentAge(o, now + 10) != age + 10) return "age does not grow with resident time";

  Verdict v = Evaluate(o, req, now);
  bool on_error = UsableOnError(o, now, grace, false);
  bool no_response = UsableOnError(o, now, grace, true);
  if (on_error && !no_response) return "usable on an error response but not without any response";
  const char* answer = AnswerWithoutOrigin(o, req, now, grace);
  if (answer && std::string_view(answer) == "HIT" && v != Verdict::kFresh)
    return "HIT without a fresh verdict";
  if (!answer && (v != Verdict::kRevalidate || no_response))
    return "no originless answer for a usable object";

  ClientNotModified(o, req);
  ByteRange r;
  if (EvaluateRange(o, req, &r) == RangeOutcome::kPartial && (r.first > r.last || r.last >= o.body.size()))
    return "range outside the stored body";
  Object fresh = Freshen(o, req.headers, T, now, rules.default_ttl_s);  // request fields as a 304's
  if (fresh.body != o.body || fresh.status != o.status) return "a 304 changed the stored body or status";
  if (fresh.freshness_lifetime < 0) return "negative freshness after a 304";
  if (auto inm = req.headers.Get("if-none-match"))
    EtagListMatches(*inm, o.headers.Get("etag").value_or("\"e\""));
  return "";
}

}  // namespace keel::cache::fuzz
