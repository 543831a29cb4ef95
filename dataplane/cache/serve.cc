// Filter: answers built from a stored object (HIT / STALE, 304 for a client's
// conditional, 206/416 for a Range), including when the route has no endpoint at
// all, and the compression decision for a response on its way from the origin.
#include <time.h>

#include <string>

#include "dataplane/cache/filter.h"
#include "dataplane/cache/without_origin.h"
#include "dataplane/compress/negotiate.h"
#include "dataplane/http1/fields.h"

namespace keel::cache {
namespace {

int64_t Now() { return static_cast<int64_t>(::time(nullptr)); }

// RFC 9110 §15.4.5: what a 304 carries of the stored response.
bool KeptIn304(std::string_view name) {
  return name == "cache-control" || name == "content-location" || name == "date" || name == "etag" ||
         name == "expires" || name == "vary" || name == "last-modified" || name == "age" || name == "x-cache";
}

}  // namespace

void Filter::Deliver(int status, const Fields& fields, http1::BodyKind body, uint64_t length) {
  if (!downstream_) return;
  http1::ResponseHead h;
  h.status = status;
  h.reason = http1::ReasonPhrase(status);
  for (const auto& [name, value] : fields.list) {
    if (h.num_headers == h.headers.size()) break;
    h.headers[h.num_headers++] = http1::Header{name, value};
  }
  h.body = body;
  h.content_length = body == http1::BodyKind::ContentLength ? length : 0;
  downstream_->OnResponseHead(h, false);
}

void Filter::Serve(std::shared_ptr<const Object> obj, const char* xcache) {
  mode_ = Mode::kServed;
  if (!downstream_) return;
  Fields f = obj->headers;
  f.Set("age", std::to_string(CurrentAge(*obj, Now())));
  f.Add("x-cache", xcache);
  // The downstream may start its next request from inside OnResponseEnd: nothing of
  // ours is touched after it, and `obj` keeps the body alive until then.
  proxy::ResponseSink* down = downstream_;
  if (ClientNotModified(*obj, ctx_.req)) {
    Fields nm;
    for (const auto& [n, v] : f.list) {
      if (KeptIn304(n)) nm.Add(n, v);
    }
    Deliver(304, nm, http1::BodyKind::None, 0);
    down->OnResponseEnd();
    return;
  }
  ByteRange r;
  std::string_view body = obj->body;
  int status = obj->status;
  switch (EvaluateRange(*obj, ctx_.req, &r)) {
    case RangeOutcome::kPartial:
      status = 206;
      f.Set("content-range", "bytes " + std::to_string(r.first) + "-" + std::to_string(r.last) + "/" +
                                 std::to_string(obj->body.size()));
      body = body.substr(r.first, r.last - r.first + 1);
      break;
    case RangeOutcome::kUnsatisfiable:
      status = 416;
      f.Set("content-range", "bytes */" + std::to_string(obj->body.size()));
      body = {};
      break;
    case RangeOutcome::kFull:
      if (status == 200) f.Set("accept-ranges", "bytes");
      break;
  }
  bool bodiless = status == 204 || status == 304;
  Deliver(status, f, bodiless ? http1::BodyKind::None : http1::BodyKind::ContentLength, body.size());
  if (!body.empty() && !bodiless) down->OnResponseBody(body);
  down->OnResponseEnd();
}

bool Filter::ServeWithoutOrigin(proxy::Worker* worker, const http1::RequestHead& head,
                                std::string_view scheme, const proxy::RouteDecision& d) {
  Prepare(worker, head, scheme, d);
  if (!ctx_.cache || (head.method != "GET" && head.method != "HEAD") || HasBody(head)) return false;
  auto a = LookupWithoutOrigin(
      *ctx_.store, ctx_.primary, [this](const std::vector<std::string>& v) { return SecondaryKey(v); },
      ctx_.req, Now(), ctx_.grace_s);
  if (!a.object) return false;
  ServeLater(std::move(a.object), a.xcache);
  return true;
}

bool Filter::ChooseCompression(const http1::ResponseHead& head, Fields* f) {
  if (!ctx_.compress || ctx_.head_method || head.status != 200 || head.body == http1::BodyKind::None)
    return false;
  if (head.body == http1::BodyKind::ContentLength && head.content_length < compress::kMinCompressBytes)
    return false;
  auto ce = f->Get("content-encoding");
  if (ce && !ce->empty() && Lower(*ce) != "identity") return false;  // never twice
  if (!compress::CompressibleType(f->Get("content-type").value_or(""))) return false;
  if (ParseCacheControl(f->GetAll("cache-control")).no_transform) return false;  // RFC 9110 §7.7
  // Whatever this client gets, the answer depends on Accept-Encoding from now on.
  bool varies = false;
  std::string vary = f->GetAll("vary");  // SplitList's views point into it
  for (auto v : SplitList(vary)) varies |= Lower(v) == "accept-encoding" || v == "*";
  if (!varies) f->Add("vary", "Accept-Encoding");
  auto coding = compress::Negotiate(ctx_.req.headers.GetAll("accept-encoding"));
  if (coding == compress::Coding::kIdentity) return false;
  encoder_ = compress::Encoder::Make(coding);
  if (!encoder_) return false;
  f->Set("content-encoding", compress::CodingName(coding));
  // A different representation: a strong validator would lie (RFC 9110 §8.8.1).
  if (auto etag = f->Get("etag"); etag && etag->substr(0, 2) != "W/")
    f->Set("etag", "W/" + std::string(*etag));
  f->Remove("content-md5");
  return true;
}

}  // namespace keel::cache
