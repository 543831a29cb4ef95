// Filter: the cache and compression layer between a downstream request (HTTP/1
// connection or h2 stream) and its Exchange. The connection creates the Exchange with
// the filter as its ResponseSink and calls Filter::Start instead of Exchange::Start;
// the filter then
//   - answers from the Store (HIT, or STALE with a background refresh), after the
//     current event so the connection has finished its own bookkeeping;
//   - or waits for another request that is already fetching the same key (coalescing,
//     bounded by kCoalesceTimeoutMs), then looks again;
//   - or starts the Exchange (MISS / BYPASS), possibly as a conditional request to
//     revalidate a stale object, and on the way back stores the response, compresses
//     it, and falls back to the stale object on errors (stale-if-error, grace).
// X-Cache says which: HIT, MISS, STALE or BYPASS (absent when the route has no cache).
// Request phases as states: kPass → exchange only; kWait → coalesced; kServed → from
// the store; kFill / kRevalidate → exchange with storing.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/cache/object.h"
#include "dataplane/cache/policy.h"
#include "dataplane/cache/store.h"
#include "dataplane/compress/encoder.h"
#include "dataplane/event/loop.h"
#include "dataplane/proxy/exchange.h"

namespace keel::proxy {
class Worker;
class Runtime;
}  // namespace keel::proxy

namespace keel::cache {

// How long a coalesced request waits for the one fetching its key before it goes to
// the origin itself.
inline constexpr uint32_t kCoalesceTimeoutMs = 5000;

class Filter final : public proxy::ResponseSink {
 public:
  // `downstream` receives the response; null for a background refresh.
  explicit Filter(proxy::ResponseSink* downstream);
  ~Filter() override;
  Filter(const Filter&) = delete;
  Filter& operator=(const Filter&) = delete;

  // One request. `exchange` was created with this filter as its sink and is not started;
  // the filter starts it (maybe later, maybe never). `head` is only read during the call.
  void Start(proxy::Worker* worker, const http1::RequestHead& head, std::string_view scheme,
             const proxy::RouteDecision& d, proxy::Exchange* exchange, proxy::ExchangeRequest req);

  // A request on a route whose cluster has no routable endpoint (the router's
  // kNoEndpoints), before any exchange exists. True: a stored object answers it as if
  // the origin had given no response (fresh → HIT; stale within stale-if-error or grace
  // → STALE, the same fields as after a refused connection), after the current event.
  // False: nothing usable (or not a cacheable GET/HEAD); the caller answers 503.
  bool ServeWithoutOrigin(proxy::Worker* worker, const http1::RequestHead& head, std::string_view scheme,
                          const proxy::RouteDecision& d);

  // ResponseSink: what the exchange reports, filtered on to the downstream.
  void OnResponseHead(const http1::ResponseHead& head, bool upgraded) override;
  void OnResponseBody(std::string_view data) override;
  void OnResponseTrailers(std::span<const http1::Header> trailers) override;
  void OnResponseEnd() override;
  void OnResponseError(int status, const char* why) override;
  void OnTunnelData(std::string_view data) override;
  void OnUpstreamWritable() override;

 private:
  enum class Mode { kIdle, kPass, kWait, kServed, kFill, kRevalidate };
  // Everything a request's cache decisions depend on, owned (the head's buffers and the
  // route's snapshot may be gone when a coalesced request resumes).
  struct Ctx {
    proxy::Worker* worker = nullptr;
    Store* store = nullptr;
    const proxy::Runtime* runtime = nullptr;  // to notice a config swap while waiting
    proxy::RouteDecision decision;
    Request req;
    std::string primary;
    bool cache = false, compress = false, head_method = false, unsafe = false;
    int64_t default_ttl_s = 0, grace_s = 0;
    uint64_t max_object = 0;
    bool allow_set_cookie = false;
    std::vector<std::string> key_headers;
  };

  void Reset();
  // Fills ctx_ for one request (and its primary key when the route caches).
  void Prepare(proxy::Worker* worker, const http1::RequestHead& head, std::string_view scheme,
               const proxy::RouteDecision& d);
  static bool HasBody(const http1::RequestHead& head);
  void Lookup(bool may_wait);
  void GoUpstream();
  void StartExchange();
  void OnWake();
  std::function<void()> Waker();
  void EndLeadership();
  void ServeLater(std::shared_ptr<const Object> obj, const char* xcache);
  void StartRefresh(std::shared_ptr<const Object> stale);
  std::string SecondaryKey(const std::vector<std::string>& vary) const;
  bool Storing() const { return mode_ == Mode::kFill || mode_ == Mode::kRevalidate; }
  void Finish();    // downstream end, or the background refresh's self-destruction
  void StoreNow();  // inserts the response being stored, if still storable

  // serve.cc: answers built from a stored object or from owned fields.
  void Serve(std::shared_ptr<const Object> obj, const char* xcache);
  void Deliver(int status, const Fields& fields, http1::BodyKind body, uint64_t length);
  bool ChooseCompression(const http1::ResponseHead& head, Fields* fields);

  proxy::ResponseSink* downstream_;
  Ctx ctx_;
  proxy::Exchange* exchange_ = nullptr;
  std::unique_ptr<proxy::Exchange> owned_exchange_;  // background refresh only
  std::function<void()> on_background_done_;
  proxy::ExchangeRequest pending_req_;
  Mode mode_ = Mode::kIdle;
  const char* xcache_ = nullptr;
  std::string key_;
  bool leading_ = false;
  std::shared_ptr<const Object> stale_;
  // Response being stored.
  bool storing_ = false, swallow_ = false, not_modified_ = false, stale_on_end_ = false;
  int status_ = 0;
  Fields resp_fields_;
  std::string body_;
  int64_t request_time_ = 0;
  uint64_t expected_length_ = UINT64_MAX;  // Content-Length of an uncompressed response being stored
  std::unique_ptr<compress::Encoder> encoder_;
  std::string scratch_;
  uint64_t gen_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::unique_ptr<event::Timer> wait_timer_;

  friend class Refresh;
};

}  // namespace keel::cache
