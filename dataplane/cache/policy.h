// The RFC 9111 / RFC 5861 rules of a shared cache as pure functions of a request, a
// response and the clock: may it be stored (§3, §3.5, §5.2.2), how long is it fresh
// (§4.2.1, heuristics §4.2.2), how old is it (§4.2.3), may it be served now or must
// it be validated (§4.2, §4.2.4, §5.2.1, RFC 5861), how a 304 freshens it (§4.3.4),
// and how a client's conditional (§4.3.2) or Range (RFC 9110 §14) is answered from it.
// No I/O here: tests/cache drives every rule with a fixed clock.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "dataplane/cache/fields.h"
#include "dataplane/cache/object.h"

namespace keel::cache {

struct Request {
  std::string method;
  Fields headers;
};

struct StoreRules {
  // Lifetime for a heuristically cacheable response without validator-based
  // heuristic (no Last-Modified); 0: not stored unless the origin gives one.
  int64_t default_ttl_s = 0;
  bool allow_set_cookie = false;
};

// Status codes "heuristically cacheable" by default (RFC 9110 §15.1).
bool HeuristicallyCacheable(int status);

// nullptr if a response with `status` and `headers` to `req` may be stored, else why not.
const char* NotStorableReason(const Request& req, int status, const Fields& headers, const StoreRules& rules);

// §4.2.1 in precedence order: s-maxage, max-age, Expires − Date; then, only for
// heuristically cacheable statuses or `public`, 10% of Date − Last-Modified capped at
// one day (§4.2.2), else rules.default_ttl_s.
int64_t FreshnessLifetime(int status, const Fields& headers, const Directives& cc, int64_t response_time,
                          int64_t default_ttl_s);

// Builds the object's clock fields; the caller fills body and secondary key.
Object MakeObject(int status, Fields headers, int64_t request_time, int64_t response_time,
                  int64_t default_ttl_s);

// §4.2.3.
int64_t CurrentAge(const Object& obj, int64_t now);

enum class Verdict {
  kFresh,                 // serve it
  kStaleWhileRevalidate,  // serve it stale, refresh in the background (RFC 5861 §3)
  kRevalidate,            // ask the origin first (conditional request if it has validators)
};
Verdict Evaluate(const Object& obj, const Request& req, int64_t now);

// Stale content on an origin error (RFC 5861 §4 stale-if-error) or, with `grace_s`,
// when no response could be obtained at all. Never past must-revalidate,
// proxy-revalidate or s-maxage (§4.2.4, §5.2.2.2, §5.2.2.8, §5.2.2.10).
bool UsableOnError(const Object& obj, int64_t now, int64_t grace_s, bool no_response);

bool HasValidator(const Object& obj);
// Adds If-None-Match / If-Modified-Since for validating `obj` (§4.3.1) as header lines.
std::string ConditionalHeaders(const Object& obj);

// §4.3.4: a copy of `stored` with the header fields of the 304 replacing its own and
// the clock fields of the new exchange.
Object Freshen(const Object& stored, const Fields& not_modified, int64_t request_time, int64_t response_time,
               int64_t default_ttl_s);

// RFC 9110 §13.1.2 / §13.1.3 / §13.2.2 for GET/HEAD against a stored 200: true when the
// client's If-None-Match (or, absent that, If-Modified-Since) says "not modified".
bool ClientNotModified(const Object& obj, const Request& req);

struct ByteRange {
  uint64_t first = 0, last = 0;  // inclusive
};
enum class RangeOutcome { kFull, kPartial, kUnsatisfiable };
// A single byte range of a stored 200 (RFC 9110 §14.1.2, §14.2 If-Range). Multiple
// ranges, other units or a failed If-Range give kFull (the whole 200 is a valid answer).
RangeOutcome EvaluateRange(const Object& obj, const Request& req, ByteRange* out);

// Weak comparison of one entity-tag against an If-None-Match list (RFC 9110 §8.8.3.2).
bool EtagListMatches(std::string_view list, std::string_view etag);

}  // namespace keel::cache
