// Http2Connection, the streams: a request head routed and checked against the
// route's policies, forwarded through the cache filter to an Exchange, its body
// passed on as the upstream takes it, and the flow control that pauses an upstream
// while its client (or the whole connection) lags. Socket I/O: http2_connection.cc.
#include <vector>

#include "dataplane/http2/http2_stream.h"
#include "dataplane/proxy/worker.h"
#include "dataplane/tls/https_redirect.h"

namespace keel::proxy {

h2::Stream* Http2Connection::NewStream(int32_t id) {
  auto* s = new Stream(this, id);
  streams_.insert(s);
  return s;
}

void Http2Connection::OnRequest(h2::Stream* hs, h2::HeadVerdict verdict, const http1::RequestHead& head,
                                bool end_stream) {
  auto* s = static_cast<Stream*>(hs);
  seen_request_ = true;
  worker_->stats().requests.fetch_add(1, std::memory_order_relaxed);
  s->record.Begin(head, peer_ip_, "HTTP/2.0", 0);
  if (!end_stream) {
    s->reading_body = true;
    reading_bodies_++;
  }
  if (verdict != h2::HeadVerdict::kOk) {
    worker_->NewRequestId(&s->request_id);
    if (verdict == h2::HeadVerdict::kTooLarge)
      RespondLocal(s, 431, "request header fields too large\n");
    else
      RespondLocal(s, 405, "CONNECT is not supported\n");
    return;
  }
  s->head_request = head.method == "HEAD";
  auto rid = FindHeader(head.fields(), "x-request-id");
  if (rid && ValidRequestId(*rid))
    s->request_id.assign(*rid);
  else
    worker_->NewRequestId(&s->request_id);

  const Runtime* rt = worker_->runtime();
  if (rt == nullptr) {
    h2::FieldList extra;
    extra.Add("retry-after", "5");
    RespondLocal(s, 503, "no configuration received yet\n", &extra);
    return;
  }
  RouteDecision d;
  rt->Route(head, peer_ip_, worker_->Random(), &d);
  if (!io_->secure()) tls::RedirectToHttps(*rt, head, &d);
  s->record.Routed(d.labels);
  s->body_limit = d.policy && d.policy->max_request_body_bytes() ? d.policy->max_request_body_bytes()
                                                                 : worker_->options().max_body_bytes;
  // Route policies (CORS, limits, response headers): dataplane/policy.
  if (d.kind == RouteDecision::Kind::kForward && d.policy &&
      worker_->policy().Evaluate(*d.policy, d.labels.namespace_, d.labels.ingress,
                                 policy::Facts(head.fields(), head.method, peer_ip_), worker_->loop().now(),
                                 &s->verdict)) {
    h2::FieldList extra;
    for (const auto& f : s->verdict.fields) extra.Add(f.name, f.value);
    RespondLocal(s, s->verdict.status, s->verdict.body, &extra);
    return;
  }
  switch (d.kind) {
    case RouteDecision::Kind::kNotFound:
      RespondLocal(s, 404, "no route for this host and path\n");
      return;
    case RouteDecision::Kind::kNoEndpoints:
      // A stored object may still answer (grace, stale-if-error): dataplane/cache.
      if (!s->cache.ServeWithoutOrigin(worker_, head, io_->secure() ? "https" : "http", d))
        RespondLocal(s, 503, "no endpoint available\n");
      return;
    case RouteDecision::Kind::kRedirect: {
      h2::FieldList extra;
      extra.Add("location", d.location);
      RespondLocal(s, d.status, "", &extra);
      return;
    }
    case RouteDecision::Kind::kDirect:
      RespondLocal(s, d.status, d.body, nullptr,
                   d.content_type.empty() ? "text/plain; charset=utf-8" : std::string_view(d.content_type));
      return;
    case RouteDecision::Kind::kForward:
      break;
  }
  if (head.body == http1::BodyKind::ContentLength && head.content_length > s->body_limit) {
    RespondLocal(s, 413, "request body too large\n");
    return;
  }
  Forward(s, head, d);
}

void Http2Connection::Forward(Stream* s, const http1::RequestHead& head, const RouteDecision& d) {
  ExchangeRequest req;
  req.head.reserve(512 + head.num_headers * 48);
  ForwardInfo info;
  info.client_ip = peer_ip_;
  info.scheme = io_->secure() ? "https" : "http";  // the transport decides, not the client's :scheme
  info.local_port = local_port_;
  info.request_id = s->request_id;
  info.host_override = d.host_override;
  info.trust_forwarded = worker_->options().trust_forwarded_headers;
  AppendUpstreamHead(head, d.upstream_path, info, &req.head);
  if (d.policy) {
    for (const auto& h : d.policy->request_headers_to_add()) req.head += h.name() + ": " + h.value() + "\r\n";
  }
  switch (head.body) {
    case http1::BodyKind::ContentLength:
      req.body = RequestBody::kContentLength;
      break;
    case http1::BodyKind::Chunked:
      req.body = RequestBody::kChunked;
      break;
    default:
      // END_STREAM on the HEADERS: an empty body. Say so to upstreams that insist
      // on a length for methods that normally carry one (411 otherwise).
      bool bodied = head.method == "POST" || head.method == "PUT" || head.method == "PATCH";
      req.body = bodied ? RequestBody::kContentLength : RequestBody::kNone;
      break;
  }
  req.content_length = head.body == http1::BodyKind::ContentLength ? head.content_length : 0;
  req.head_method = s->head_request;
  req.idempotent = head.method == "GET" || head.method == "HEAD" || head.method == "OPTIONS" ||
                   head.method == "PUT" || head.method == "DELETE" || head.method == "TRACE";
  worker_->runtime()->HashInputs(head, d.cluster, peer_ip_, &req.hash_key, &req.sticky_value);
  if (head.expect_continue) session_->Inform(s, 100);  // as for HTTP/1: we answer 100 ourselves
  s->record.UpstreamStarted();
  s->exchange = std::make_unique<Exchange>(worker_, &s->cache);
  s->cache.Start(worker_, head, info.scheme, d, s->exchange.get(), std::move(req));  // may answer at once
}

void Http2Connection::OnRequestBody(h2::Stream* hs, std::string_view data) {
  auto* s = static_cast<Stream*>(hs);
  if (!s->exchange) {  // answered already (locally or early by the upstream): drop it
    session_->Consume(s, data.size());
    return;
  }
  s->body_received += data.size();
  if (s->body_received > s->body_limit) {
    s->body_pending.clear();
    session_->Consume(s, s->unconsumed_bytes());
    s->DropExchange();
    if (s->response_started)
      session_->Reset(s, h2::kCancel);
    else
      RespondLocal(s, 413, "request body too large\n");
    return;
  }
  if (!s->body_pending.empty() || HoldBody(s)) {
    s->body_pending.append(data);  // the client's window closes until the upstream takes it
    return;
  }
  SendBody(s, data);
}

bool Http2Connection::HoldBody(const Stream* s) const {
  return s->body_in_flight >= h2flow::kMaxBodyInFlight || s->exchange->Backlogged();
}

void Http2Connection::SendBody(Stream* s, std::string_view data) {
  s->body_in_flight += data.size();
  s->exchange->SendBody(data);  // may drain at once and call OnUpstreamWritable
  session_->Consume(s, data.size());
}

void Http2Connection::OnRequestEnd(h2::Stream* hs) {
  auto* s = static_cast<Stream*>(hs);
  if (s->reading_body) {
    s->reading_body = false;
    reading_bodies_--;
  }
  PushRequestBody(s);
}

void Http2Connection::PushRequestBody(Stream* s) {
  while (s->exchange && !s->body_pending.empty() && !HoldBody(s)) {
    std::string chunk;
    chunk.swap(s->body_pending);  // SendBody may call back into us
    SendBody(s, chunk);
  }
  if (s->exchange && s->body_pending.empty() && s->request_ended() && !s->body_end_sent) {
    s->body_end_sent = true;
    s->exchange->EndBody();
  }
  ScheduleFlush();  // WINDOW_UPDATEs
}

void Http2Connection::OnStreamClose(h2::Stream* hs, uint32_t error_code) {
  auto* s = static_cast<Stream*>(hs);
  s->gone = true;
  if (s->reading_body) {
    s->reading_body = false;
    reading_bodies_--;
  }
  if (error_code != h2::kNoError && s->exchange) {
    KEEL_LOG(Debug, "http2") << peer_ip_ << ": stream " << s->id() << " reset (" << error_code << ")";
  }
  if (s->exchange) s->record.UpstreamDone(s->exchange->upstream_address(), s->exchange->upstream_status());
  s->record.Finish(s->response_started ? s->status : 0, s->request_id, s->body_received, 0);
  streams_.erase(s);
  paused_for_connection_.erase(s);
  // A cancelled stream cancels its exchange (and upstream connection) with it.
  worker_->loop().Defer([s, ex = s->exchange.release()] {
    delete ex;
    delete s;
  });
}

void Http2Connection::OnStreamDrained(h2::Stream* hs) {
  auto* s = static_cast<Stream*>(hs);
  if (session_->queued_bytes() > h2flow::kConnHighWater) {
    paused_for_connection_.insert(s);  // its own queue is low, the connection's is not
    return;
  }
  ResumeUpstream(s);
}

void Http2Connection::MaybePauseUpstream(Stream* s) {
  if (s->upstream_paused || !s->exchange) return;
  bool stream_full = s->queued_bytes() > h2flow::kStreamHighWater;
  if (!stream_full && session_->queued_bytes() <= h2flow::kConnHighWater) return;
  s->upstream_paused = true;
  s->exchange->PauseUpstream(true);
  if (stream_full)
    s->NotifyWhenDrained();
  else
    paused_for_connection_.insert(s);
}

void Http2Connection::ResumeUpstream(Stream* s) {
  s->upstream_paused = false;
  if (s->exchange) s->exchange->PauseUpstream(false);
}

void Http2Connection::RespondLocal(Stream* s, int status, std::string_view body, const h2::FieldList* extra,
                                   std::string_view content_type) {
  if (s->gone) return;
  s->response_started = true;
  s->status = status;
  h2::FieldList fields;
  if (!body.empty()) fields.Add("content-type", content_type);
  fields.Add("content-length", std::to_string(body.size()));
  if (extra != nullptr) {
    for (size_t i = 0; i < extra->size(); ++i) fields.Add(extra->at(i).name, extra->at(i).value);
  }
  if (!s->request_id.empty()) fields.Add("x-request-id", s->request_id);
  bool has_body = !s->head_request && !body.empty();
  session_->Respond(s, status, fields, has_body);
  if (has_body) {
    session_->QueueBody(s, body);
    session_->EndBody(s);
  }
  CountResponse(status);
  ScheduleFlush();
}

void Http2Connection::CountResponse(int status) {
  if (status >= 100 && status < 600) {
    worker_->stats().responses_by_class[status / 100].fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace keel::proxy
