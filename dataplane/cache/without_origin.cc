// Answers from the store when no origin can be asked (see without_origin.h).
#include "dataplane/cache/without_origin.h"

#include <string_view>

namespace keel::cache {

const char* AnswerWithoutOrigin(const Object& obj, const Request& req, int64_t now, int64_t grace_s) {
  switch (Evaluate(obj, req, now)) {
    case Verdict::kFresh:
      return "HIT";
    case Verdict::kStaleWhileRevalidate:
      // Served stale as on the normal path; there is no origin to refresh from.
      return "STALE";
    case Verdict::kRevalidate:
      // The validation request could not even be sent: "no response" (grace applies).
      return UsableOnError(obj, now, grace_s, /*no_response=*/true) ? "STALE" : nullptr;
  }
  return nullptr;
}

OriginlessAnswer LookupWithoutOrigin(Store& store, const std::string& primary,
                                     const Store::SecondaryFn& secondary, const Request& req, int64_t now,
                                     int64_t grace_s) {
  OriginlessAnswer a;
  auto found = store.Lookup(primary, secondary);
  const char* xcache = found.object ? AnswerWithoutOrigin(*found.object, req, now, grace_s) : nullptr;
  if (!xcache) {
    store.stats().misses.fetch_add(1, std::memory_order_relaxed);
    return a;
  }
  auto& counter = std::string_view(xcache) == "HIT" ? store.stats().hits : store.stats().stale;
  counter.fetch_add(1, std::memory_order_relaxed);
  a.object = std::move(found.object);
  a.xcache = xcache;
  return a;
}

}  // namespace keel::cache
