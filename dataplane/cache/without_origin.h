// What the cache may answer when the origin cannot be asked at all: the route's
// cluster has no routable endpoint (the router's kNoEndpoints). The connect-failure
// path reaches the same decision through Filter::OnResponseError; this one runs
// before any exchange exists, so that grace and stale-if-error also cover a Service
// whose pods are all gone (zero endpoints), not only endpoints that refuse.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "dataplane/cache/object.h"
#include "dataplane/cache/policy.h"
#include "dataplane/cache/store.h"

namespace keel::cache {

// X-Cache value for answering `req` from `obj` with no origin reachable: "HIT" while
// it is fresh for this request, "STALE" when stale content may stand in (the client's
// max-stale, stale-while-revalidate, stale-if-error, or within `grace_s`; RFC 5861
// §3/§4), nullptr when it may not (past every window, or must-revalidate,
// proxy-revalidate, s-maxage: RFC 9111 §4.2.4).
const char* AnswerWithoutOrigin(const Object& obj, const Request& req, int64_t now, int64_t grace_s);

struct OriginlessAnswer {
  std::shared_ptr<const Object> object;  // null: nothing usable, answer the error
  const char* xcache = nullptr;
};

// Looks up `primary` (with `secondary` for Vary) and applies AnswerWithoutOrigin,
// counting a hit, a stale answer or a miss in the store's stats.
OriginlessAnswer LookupWithoutOrigin(Store& store, const std::string& primary,
                                     const Store::SecondaryFn& secondary, const Request& req, int64_t now,
                                     int64_t grace_s);

}  // namespace keel::cache
