// Filter: request-side decisions (lookup, coalescing, revalidation, refresh) and the
// exchange's callbacks. Building answers from stored objects is in serve.cc.
#include "dataplane/cache/filter.h"

#include <time.h>

#include "common/log.h"
#include "dataplane/compress/negotiate.h"
#include "dataplane/http1/fields.h"
#include "dataplane/proxy/forward.h"
#include "dataplane/proxy/worker.h"

namespace keel::cache {
namespace {

int64_t Now() { return static_cast<int64_t>(::time(nullptr)); }

// Drops the request fields that would make the origin answer something other than a
// full representation of the stored object's variant; our own validators replace them.
void StripConditionals(std::string* head) {
  static constexpr std::string_view kNames[] = {"if-none-match",       "if-modified-since", "if-match",
                                                "if-unmodified-since", "if-range",          "range"};
  std::string out;
  out.reserve(head->size());
  size_t pos = 0;
  bool first = true;
  while (pos < head->size()) {
    size_t eol = head->find("\r\n", pos);
    size_t end = eol == std::string::npos ? head->size() : eol + 2;
    std::string_view line(head->data() + pos, end - pos);
    bool drop = false;
    if (!first) {
      auto name = line.substr(0, line.find(':'));
      for (auto n : kNames) drop |= http1::EqualsIgnoreCase(name, n);
    }
    if (!drop) out.append(line);
    first = false;
    pos = end;
  }
  head->swap(out);
}

}  // namespace

bool Filter::HasBody(const http1::RequestHead& head) {
  return head.body == http1::BodyKind::Chunked ||
         (head.body == http1::BodyKind::ContentLength && head.content_length > 0);
}

Filter::Filter(proxy::ResponseSink* downstream) : downstream_(downstream) {}

Filter::~Filter() {
  *alive_ = false;
  EndLeadership();
}

void Filter::Reset() {
  EndLeadership();
  gen_++;
  if (wait_timer_ && ctx_.worker) ctx_.worker->loop().Disarm(wait_timer_.get());
  mode_ = Mode::kIdle;
  xcache_ = nullptr;
  stale_.reset();
  storing_ = swallow_ = not_modified_ = stale_on_end_ = false;
  expected_length_ = UINT64_MAX;
  status_ = 0;
  resp_fields_.list.clear();
  std::string().swap(body_);
  encoder_.reset();
  exchange_ = nullptr;
}

void Filter::Prepare(proxy::Worker* worker, const http1::RequestHead& head, std::string_view scheme,
                     const proxy::RouteDecision& d) {
  Reset();
  Ctx& c = ctx_;
  c = Ctx{};
  c.worker = worker;
  c.store = worker->options().cache.get();
  c.runtime = worker->runtime();
  c.decision = d;
  c.head_method = head.method == "HEAD";
  c.compress = d.policy && d.policy->compression();
  const auto* cp = d.policy ? &d.policy->cache() : nullptr;
  c.cache = c.store && cp && cp->enabled();
  if (c.compress || c.cache) {
    c.req.method.assign(head.method);
    for (const auto& h : head.fields()) c.req.headers.Add(h.name, h.value);
  }
  if (!c.cache) return;
  c.default_ttl_s = cp->default_ttl_s();
  c.grace_s = cp->grace_s();
  c.allow_set_cookie = cp->allow_set_cookie();
  c.max_object = cp->max_object_bytes() ? std::min(cp->max_object_bytes(), c.store->max_object_bytes())
                                        : c.store->max_object_bytes();
  for (const auto& k : cp->key_headers()) c.key_headers.push_back(Lower(k));
  c.primary.reserve(scheme.size() + head.host.size() + head.target.size() + 4);
  c.primary.append(scheme).append("://").append(Lower(head.host)).append(head.path);
  if (!head.query.empty()) c.primary.append("?").append(head.query);
}

void Filter::Start(proxy::Worker* worker, const http1::RequestHead& head, std::string_view scheme,
                   const proxy::RouteDecision& d, proxy::Exchange* exchange, proxy::ExchangeRequest req) {
  Prepare(worker, head, scheme, d);
  exchange_ = exchange;
  pending_req_ = std::move(req);
  Ctx& c = ctx_;
  if (!c.cache) {
    mode_ = Mode::kPass;
    StartExchange();
    return;
  }
  bool safe =
      head.method == "GET" || head.method == "HEAD" || head.method == "OPTIONS" || head.method == "TRACE";
  if (!safe || HasBody(head) || (head.method != "GET" && head.method != "HEAD")) {
    // RFC 9111 §4.4: an unsafe method invalidates the target URI once it succeeds.
    c.unsafe = !safe;
    mode_ = Mode::kPass;
    xcache_ = "BYPASS";
    c.store->stats().bypass.fetch_add(1, std::memory_order_relaxed);
    StartExchange();
    return;
  }
  // HEAD misses are not coalesced: they cannot fill the cache for anyone.
  Lookup(!c.head_method && !c.req.headers.Has("range"));
}

std::string Filter::SecondaryKey(const std::vector<std::string>& vary) const {
  std::string s;
  for (const auto& k : ctx_.key_headers)
    s.append(k).append("=").append(ctx_.req.headers.GetAll(k)).append("\n");
  for (const auto& v : vary) {
    s.append(v).push_back('=');
    if (v == "accept-encoding")
      s.append(compress::NormalizeAcceptEncoding(ctx_.req.headers.GetAll(v)));
    else
      s.append(ctx_.req.headers.GetAll(v));
    s.push_back('\n');
  }
  return s;
}

void Filter::Lookup(bool may_wait) {
  Store* store = ctx_.store;
  auto found =
      store->Lookup(ctx_.primary, [this](const std::vector<std::string>& v) { return SecondaryKey(v); });
  key_ = std::move(found.key);
  int64_t now = Now();
  if (found.object) {
    switch (Evaluate(*found.object, ctx_.req, now)) {
      case Verdict::kFresh:
        store->stats().hits.fetch_add(1, std::memory_order_relaxed);
        ServeLater(std::move(found.object), "HIT");
        return;
      case Verdict::kStaleWhileRevalidate:
        store->stats().stale.fetch_add(1, std::memory_order_relaxed);
        // One refresh per key: whoever finds a fill running just serves stale.
        if (store->JoinFill(key_, [] {})) StartRefresh(found.object);
        ServeLater(std::move(found.object), "STALE");
        return;
      case Verdict::kRevalidate:
        stale_ = std::move(found.object);
        break;
    }
  } else if (ParseCacheControl(ctx_.req.headers.GetAll("cache-control")).only_if_cached) {
    // §5.2.1.7: nothing stored, and the client forbids going to the origin.
    mode_ = Mode::kServed;
    ctx_.worker->loop().Defer([alive = std::weak_ptr<bool>(alive_), gen = gen_, this] {
      if (alive.expired() || gen != gen_) return;
      Fields f;
      f.Add("x-cache", "MISS");
      Deliver(504, f, http1::BodyKind::ContentLength, 0);
      if (downstream_) downstream_->OnResponseEnd();
    });
    return;
  }
  if (may_wait) {
    if (!store->JoinFill(key_, Waker())) {
      mode_ = Mode::kWait;
      if (!wait_timer_) wait_timer_ = std::make_unique<event::Timer>([this] { OnWake(); });
      ctx_.worker->loop().Arm(wait_timer_.get(), kCoalesceTimeoutMs);
      return;
    }
    leading_ = true;
  }
  GoUpstream();
}

std::function<void()> Filter::Waker() {
  // Runs on the leader's thread: hop to ours, where `alive` and `gen` can be read.
  return [loop = &ctx_.worker->loop(), alive = std::weak_ptr<bool>(alive_), gen = gen_, this] {
    loop->Post([alive, gen, this] {
      if (alive.expired() || gen != gen_ || mode_ != Mode::kWait) return;
      OnWake();
    });
  };
}

void Filter::OnWake() {
  ctx_.worker->loop().Disarm(wait_timer_.get());
  if (ctx_.worker->runtime() != ctx_.runtime) {
    // The cluster index in our decision belongs to the old snapshot.
    mode_ = Mode::kPass;
    if (downstream_) downstream_->OnResponseError(503, "configuration changed while waiting for the cache");
    return;
  }
  Lookup(false);
}

void Filter::GoUpstream() {
  mode_ = stale_ ? Mode::kRevalidate : Mode::kFill;
  xcache_ = "MISS";
  ctx_.store->stats().misses.fetch_add(1, std::memory_order_relaxed);
  if (stale_) {
    // §4.3.1: validate with our validators; the client's own preconditions are answered
    // from the refreshed object afterwards.
    StripConditionals(&pending_req_.head);
    pending_req_.head += ConditionalHeaders(*stale_);
  }
  request_time_ = Now();
  StartExchange();
}

void Filter::StartExchange() {
  if (!exchange_) return;
  exchange_->Start(ctx_.decision, std::move(pending_req_));  // may call back at once
}

void Filter::EndLeadership() {
  if (!leading_) return;
  leading_ = false;
  ctx_.store->EndFill(key_);
}

void Filter::ServeLater(std::shared_ptr<const Object> obj, const char* xcache) {
  mode_ = Mode::kServed;
  // After the current event: the connection is still inside its request bookkeeping.
  ctx_.worker->loop().Defer(
      [alive = std::weak_ptr<bool>(alive_), gen = gen_, obj = std::move(obj), xcache, this] {
        if (alive.expired() || gen != gen_) return;
        Serve(obj, xcache);
      });
}

// A background refresh is a Filter without a downstream that owns its Exchange and
// deletes itself when the exchange is over.
void Filter::StartRefresh(std::shared_ptr<const Object> stale) {
  auto* bg = new Filter(nullptr);
  bg->ctx_ = ctx_;
  bg->key_ = key_;
  bg->leading_ = true;
  bg->stale_ = std::move(stale);
  bg->pending_req_ = std::move(pending_req_);
  bg->owned_exchange_ = std::make_unique<proxy::Exchange>(ctx_.worker, bg);
  bg->exchange_ = bg->owned_exchange_.get();
  bg->on_background_done_ = [bg] { bg->ctx_.worker->loop().Defer([bg] { delete bg; }); };
  bg->GoUpstream();
}

void Filter::Finish() {
  EndLeadership();
  if (downstream_) {
    downstream_->OnResponseEnd();
  } else if (on_background_done_) {
    auto done = std::move(on_background_done_);
    done();
  }
}

void Filter::OnResponseHead(const http1::ResponseHead& head, bool upgraded) {
  if (mode_ == Mode::kPass && !xcache_ && !ctx_.compress) {
    if (downstream_) downstream_->OnResponseHead(head, upgraded);  // the common case: untouched
    return;
  }
  if (upgraded) {
    if (downstream_) downstream_->OnResponseHead(head, upgraded);
    return;
  }
  status_ = head.status;
  int64_t now = Now();
  if (mode_ == Mode::kRevalidate && head.status == 304) {
    not_modified_ = swallow_ = true;  // the stored body answers, after the (empty) body
    for (const auto& h : head.fields()) resp_fields_.Add(h.name, h.value);
    return;
  }
  if (mode_ == Mode::kRevalidate && head.status >= 500 && UsableOnError(*stale_, now, ctx_.grace_s, false)) {
    stale_on_end_ = swallow_ = true;  // RFC 5861 §4: an error, and stale content may stand in
    return;
  }
  Fields f;
  http1::ConnectionTokens tokens;
  tokens.AddAll(head.fields());
  for (const auto& h : head.fields()) {
    if (http1::ShouldDropOnForward(h.name, tokens) || http1::EqualsIgnoreCase(h.name, "content-length"))
      continue;
    f.Add(h.name, h.value);
  }
  bool compressed = ChooseCompression(head, &f);
  http1::BodyKind body = compressed ? http1::BodyKind::Chunked : head.body;
  if (ctx_.cache && ctx_.unsafe && head.status < 400) ctx_.store->Invalidate(ctx_.primary);
  if (Storing()) {
    StoreRules rules{ctx_.default_ttl_s, ctx_.allow_set_cookie};
    const char* why = NotStorableReason(ctx_.req, head.status, f, rules);
    if (!why && head.body == http1::BodyKind::ContentLength && head.content_length > ctx_.max_object &&
        !compressed) {
      why = "too large";
    }
    storing_ = why == nullptr;
    if (why) {
      ctx_.store->stats().not_stored.fetch_add(1, std::memory_order_relaxed);
      KEEL_LOG(Debug, "cache") << ctx_.primary << ": not stored (" << why << ")";
    } else {
      resp_fields_ = f;
      // Exact size up front when known: the stored body is charged by its capacity.
      if (!compressed && head.body == http1::BodyKind::ContentLength) body_.reserve(head.content_length);
      // §5.2.2.7: private="field" — a shared cache stores the rest only.
      Directives cc = ParseCacheControl(f.GetAll("cache-control"));
      for (const auto& name : cc.private_fields) resp_fields_.Remove(name);
    }
  }
  if (xcache_) f.Add("x-cache", xcache_);
  // A client that has the whole response may ask again at once (on another worker):
  // the object must be in the store before the last byte leaves, not after.
  if (storing_ && !compressed) {
    expected_length_ = head.body == http1::BodyKind::ContentLength ? head.content_length
                       : head.body == http1::BodyKind::None        ? 0
                                                                   : UINT64_MAX;
    if (expected_length_ == 0) StoreNow();
  }
  Deliver(head.status, f, body, head.content_length);
}

void Filter::StoreNow() {
  if (!storing_) return;
  storing_ = false;
  Object o = MakeObject(status_, std::move(resp_fields_), request_time_, Now(), ctx_.default_ttl_s);
  o.body = std::move(body_);
  if (o.body.capacity() > o.body.size() + o.body.size() / 8) o.body.shrink_to_fit();
  o.secondary_key = SecondaryKey(o.vary);
  ctx_.store->Insert(ctx_.primary, std::make_shared<const Object>(std::move(o)));
}

void Filter::OnResponseBody(std::string_view data) {
  if (swallow_) return;
  if (encoder_) {
    scratch_.clear();
    if (!encoder_->Write(data, &scratch_)) {
      if (downstream_) downstream_->OnResponseError(0, "compression failed");
      storing_ = false;
      return;
    }
    data = scratch_;
    if (data.empty()) return;
  }
  if (storing_) {
    if (body_.size() + data.size() > ctx_.max_object) {
      storing_ = false;
      std::string().swap(body_);
      ctx_.store->stats().not_stored.fetch_add(1, std::memory_order_relaxed);
    } else {
      body_.append(data);
      if (body_.size() == expected_length_) StoreNow();
    }
  }
  if (downstream_) downstream_->OnResponseBody(data);
}

void Filter::OnResponseTrailers(std::span<const http1::Header> trailers) {
  if (swallow_) return;
  if (storing_) {
    // A stored copy would be replayed without them; trailers are rare (gRPC, which
    // is POST and never stored anyway), so simply do not store such a response.
    storing_ = false;
    std::string().swap(body_);
    ctx_.store->stats().not_stored.fetch_add(1, std::memory_order_relaxed);
  }
  if (downstream_) downstream_->OnResponseTrailers(trailers);
}

void Filter::OnResponseEnd() {
  int64_t now = Now();
  if (not_modified_) {
    // §4.3.4: the 304 freshens the stored object, which then answers the client.
    Object fresh = Freshen(*stale_, resp_fields_, request_time_, now, ctx_.default_ttl_s);
    auto obj = std::make_shared<const Object>(std::move(fresh));
    ctx_.store->Insert(ctx_.primary, obj);
    EndLeadership();
    if (downstream_)
      Serve(std::move(obj), "HIT");
    else
      Finish();
    return;
  }
  if (stale_on_end_) {
    EndLeadership();
    ctx_.store->stats().stale.fetch_add(1, std::memory_order_relaxed);
    if (downstream_)
      Serve(stale_, "STALE");
    else
      Finish();
    return;
  }
  if (encoder_) {
    scratch_.clear();
    encoder_->Finish(&scratch_);
    if (storing_) {
      if (body_.size() + scratch_.size() > ctx_.max_object)
        storing_ = false;
      else
        body_.append(scratch_);
    }
  }
  // Chunked or compressed (sent chunked): the client sees the end only after this.
  StoreNow();
  if (encoder_ && !scratch_.empty() && downstream_) downstream_->OnResponseBody(scratch_);
  Finish();
}

void Filter::OnResponseError(int status, const char* why) {
  // Nothing usable came back. A stale object may stand in if the client has seen
  // nothing yet: stale-if-error, or grace while no endpoint answers.
  bool client_saw_nothing = status != 0 || swallow_;
  if (client_saw_nothing && stale_ && UsableOnError(*stale_, Now(), ctx_.grace_s, true)) {
    EndLeadership();
    ctx_.store->stats().stale.fetch_add(1, std::memory_order_relaxed);
    if (downstream_) {
      Serve(stale_, "STALE");
      return;
    }
  }
  EndLeadership();
  storing_ = false;
  if (downstream_) {
    downstream_->OnResponseError(swallow_ && status == 0 ? 502 : status, why);
  } else if (on_background_done_) {
    auto done = std::move(on_background_done_);
    done();
  }
}

void Filter::OnTunnelData(std::string_view data) {
  if (downstream_) downstream_->OnTunnelData(data);
}

void Filter::OnUpstreamWritable() {
  if (downstream_) downstream_->OnUpstreamWritable();
}

}  // namespace keel::cache
