// Http2Connection: socket I/O, timers, and one Exchange per stream (see the header).
#include "dataplane/http2/http2_connection.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "common/log.h"
#include "dataplane/observe/request_record.h"
#include "dataplane/cache/filter.h"
#include "dataplane/proxy/exchange.h"
#include "dataplane/proxy/forward.h"
#include "dataplane/tls/https_redirect.h"

namespace keel::proxy {
namespace {
constexpr size_t kReadChunk = 16384;
constexpr size_t kReadPerEvent = 256 * 1024;  // bounded work per loop turn
// Framed bytes buffered towards the socket; nghttp2 is asked for more only below it,
// so a client that does not read cannot make us frame (and buffer) whole responses.
constexpr size_t kOutLimit = 64 * 1024;
// Response bytes queued on one stream (client window closed) before its upstream is
// paused; it resumes below the session's low-water mark. Across all streams of a
// connection the budget is kConnHighWater, so 128 streams cannot hold 128 times it.
constexpr size_t kStreamHighWater = 256 * 1024;
constexpr size_t kConnHighWater = 1024 * 1024;
constexpr size_t kConnLowWater = 512 * 1024;
// Request body handed to a stream's Exchange and not yet written upstream. Past it
// the bytes wait unconsumed, so the client's window (not our memory) absorbs a slow
// or still-connecting upstream: Exchange alone would take up to 1 MiB per stream.
constexpr size_t kMaxBodyInFlight = 64 * 1024;
constexpr std::string_view kSwitching =
    "HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: h2c\r\n\r\n";
}  // namespace

class Http2Connection::Stream final : public h2::Stream, public ResponseSink {
 public:
  Stream(Http2Connection* conn, int32_t id) : h2::Stream(id), conn_(conn) {}

  bool live() const { return !gone && !conn_->closed_; }
  // We may be inside one of the exchange's callbacks: destroy it after this event.
  void DropExchange() {
    if (exchange) record.UpstreamDone(exchange->upstream_address(), exchange->upstream_status());
    if (exchange) conn_->worker_->loop().Defer([ex = exchange.release()] { delete ex; });
  }

  void OnResponseHead(const http1::ResponseHead& head, bool) override {
    if (!live()) return;
    response_started = true;
    status = head.status;
    h2::FieldList fields;
    h2::AppendResponseFields(head, head_request, &fields);
    if (exchange) {
      // Session affinity picked by the exchange, formatted for HTTP/1: "set-cookie: v\r\n".
      constexpr std::string_view kPrefix = "set-cookie: ";
      std::string_view a = exchange->affinity_header();
      if (a.size() > kPrefix.size() + 2 && a.substr(0, kPrefix.size()) == kPrefix) {
        fields.Add("set-cookie", a.substr(kPrefix.size(), a.size() - kPrefix.size() - 2));
      }
    }
    for (const auto& f : verdict.response_fields) fields.Add(f.name, f.value);
    has_body = !head_request && head.body != http1::BodyKind::None;
    conn_->session_->Respond(this, head.status, fields, has_body);
    conn_->ScheduleFlush();
  }

  void OnResponseBody(std::string_view data) override {
    if (!live() || !has_body) return;
    record.AddBytesOut(data.size());
    conn_->session_->QueueBody(this, data);
    conn_->MaybePauseUpstream(this);
    conn_->ScheduleFlush();
  }

  void OnResponseTrailers(std::span<const http1::Header> fields) override {
    if (!live() || !has_body) return;
    for (const auto& f : fields) {
      if (TrailerAllowed(f.name)) trailers.Add(f.name, f.value);
    }
  }

  void OnResponseEnd() override {
    if (!live()) return;
    if (has_body) conn_->session_->EndBody(this, trailers.size() ? &trailers : nullptr);
    conn_->CountResponse(status);
    DropExchange();
    conn_->ScheduleFlush();
  }

  void OnResponseError(int st, const char* why) override {
    if (!live()) return;
    conn_->worker_->stats().upstream_errors.fetch_add(1, std::memory_order_relaxed);
    KEEL_LOG(Debug, "http2") << "stream " << id() << ": " << why;
    DropExchange();
    if (st == 0 || response_started) {
      conn_->session_->Reset(this, h2::kInternalError);  // a truncated response, never a wrong one
    } else {
      conn_->RespondLocal(this, st, std::to_string(st) + " " + std::string(http1::ReasonPhrase(st)) + "\n");
    }
    conn_->ScheduleFlush();
  }

  // No protocol switch over h2: requests never ask the upstream for one.
  void OnTunnelData(std::string_view) override {}

  void OnUpstreamWritable() override {
    body_in_flight = 0;
    if (live()) conn_->PushRequestBody(this);
  }

  std::unique_ptr<Exchange> exchange;
  observe::RequestRecord record;  // metrics and access log of this stream's request
  policy::Verdict verdict;  // route policy outcome; holds the in-flight slot
  cache::Filter cache{this};  // between the stream and its exchange: cache and compression
  std::string request_id;
  h2::FieldList trailers;  // from the upstream, sent after the body
  std::string body_pending;  // request DATA the exchange could not take yet (not consumed)
  uint64_t body_limit = 0, body_received = 0;
  size_t body_in_flight = 0;  // handed to the exchange since its upstream last drained
  int status = 0;
  bool head_request = false;
  bool response_started = false;
  bool has_body = false;
  bool reading_body = false;  // counted in reading_bodies_
  bool body_end_sent = false;
  bool upstream_paused = false;
  bool gone = false;  // closed by the session: sink calls are ignored

 private:
  Http2Connection* conn_;
};

Http2Connection::Http2Connection(Worker* worker, int fd, const net::Address& peer, uint16_t local_port,
                                 std::unique_ptr<net::Transport> transport)
    : worker_(worker), fd_(fd), io_(transport ? std::move(transport) : std::make_unique<net::PlainTransport>(fd)),
      peer_ip_(peer.Ip()), local_port_(local_port), timer_([this] {
        OnTimeout();
      }) {}

Http2Connection::~Http2Connection() {
  session_.reset();  // nghttp2_session_del calls no callbacks
  for (Stream* s : streams_) delete s;
  if (fd_ >= 0) ::close(fd_);
}

bool Http2Connection::CanUpgrade(const http1::RequestHead& head) {
  if (!head.h2c_upgrade) return false;
  if (head.body == http1::BodyKind::Chunked ||
      (head.body == http1::BodyKind::ContentLength && head.content_length))
    return false;
  auto settings = FindHeader(head.fields(), "http2-settings");
  return settings && h2::DecodeSettingsHeader(*settings).has_value();
}

void Http2Connection::Start(std::string_view buffered, const http1::RequestHead* upgrade) {
  h2::SessionHandler* handler = this;  // private base: convert where it is accessible
  session_ = std::make_unique<h2::ServerSession>(worker_->options().http2,
                                                 worker_->options().downstream_limits, handler);
  interest_ = EPOLLIN | EPOLLRDHUP;
  worker_->loop().Add(fd_, interest_, this);
  in_events_ = true;
  bool ok = true;
  if (upgrade != nullptr) {
    out_.Append(kSwitching);  // RFC 7540 §3.2: the 101, then our SETTINGS, then stream 1's response
    auto settings = h2::DecodeSettingsHeader(FindHeader(upgrade->fields(), "http2-settings").value_or(""));
    ok = settings && session_->StartUpgraded(*settings, *upgrade);
  } else {
    session_->Start();
  }
  if (ok && !buffered.empty()) ok = session_->Receive(buffered);
  in_events_ = false;
  if (!ok) {
    WriteOut();
    Close();
    return;
  }
  if (worker_->draining()) CloseWhenIdle();
  WriteOut();
  AfterIo();
}

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
  return s->body_in_flight >= kMaxBodyInFlight || s->exchange->Backlogged();
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
  if (session_->queued_bytes() > kConnHighWater) {
    paused_for_connection_.insert(s);  // its own queue is low, the connection's is not
    return;
  }
  ResumeUpstream(s);
}

void Http2Connection::MaybePauseUpstream(Stream* s) {
  if (s->upstream_paused || !s->exchange) return;
  bool stream_full = s->queued_bytes() > kStreamHighWater;
  if (!stream_full && session_->queued_bytes() <= kConnHighWater) return;
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

void Http2Connection::OnEvents(uint32_t events) {
  if (closed_) return;
  in_events_ = true;
  if (events & EPOLLOUT) write_blocked_ = false;
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) ReadSome();
  in_events_ = false;
  if (closed_) return;
  WriteOut();
  AfterIo();
}

void Http2Connection::ReadSome() {
  char buf[kReadChunk];
  size_t total = 0;
  while (total < kReadPerEvent) {
    ssize_t n = io_->Read(buf, sizeof buf);
    if (n > 0) {
      total += static_cast<size_t>(n);
      read_progress_ = true;
      worker_->stats().bytes_in.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
      if (!session_->Receive({buf, static_cast<size_t>(n)})) {
        WriteOut();  // best effort: the GOAWAY saying why
        Close();
        return;
      }
      if (closed_) return;
      if (static_cast<size_t>(n) < sizeof buf) break;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    Close();  // EOF or error: the client is gone, and its streams with it
    return;
  }
}

void Http2Connection::WriteOut() {
  while (!closed_) {
    if (out_.size() < kOutLimit && !session_->Send(&out_, kOutLimit)) {
      Close();
      return;
    }
    if (out_.empty()) {
      write_blocked_ = false;
      break;
    }
    ssize_t n = io_->Write(out_.view().data(), out_.size());
    if (n > 0) {
      out_.Consume(static_cast<size_t>(n));
      write_progress_ = true;
      worker_->stats().bytes_out.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      write_blocked_ = true;
      break;
    }
    Close();
    return;
  }
}

void Http2Connection::AfterIo() {
  if (closed_) return;
  if (!session_->WantRead() && !session_->WantWrite() && out_.empty()) {
    Close();  // GOAWAY exchanged (or sent) and no stream left
    return;
  }
  if (!paused_for_connection_.empty() && session_->queued_bytes() < kConnLowWater) {
    for (Stream* s : std::vector<Stream*>(paused_for_connection_.begin(), paused_for_connection_.end())) {
      paused_for_connection_.erase(s);
      if (s->queued_bytes() > kStreamHighWater)
        s->NotifyWhenDrained();
      else
        ResumeUpstream(s);
    }
  }
  if (out_.empty() && session_->open_streams() == 0) out_.Shrink();  // idle connections stay cheap
  UpdateInterest();
  UpdateTimer();
}

void Http2Connection::ScheduleFlush() {
  if (closed_ || in_events_ || flush_scheduled_) return;
  // Coalesces every stream's output of this loop turn into one write. Runs before
  // a deferred `delete this` queued later by Close (the loop keeps Defer order).
  flush_scheduled_ = true;
  worker_->loop().Defer([this] {
    flush_scheduled_ = false;
    if (closed_) return;
    WriteOut();
    AfterIo();
  });
}

void Http2Connection::UpdateInterest() {
  uint32_t want = EPOLLRDHUP;
  if (out_.size() < kOutLimit) want |= EPOLLIN;
  if (!out_.empty()) want |= EPOLLOUT;
  if (want != interest_) {
    worker_->loop().Modify(fd_, want, this);
    interest_ = want;
  }
}

void Http2Connection::UpdateTimer() {
  const ProxyOptions& o = worker_->options();
  auto where = session_->where();
  TimerKind want = TimerKind::kNone;
  if (!out_.empty()) {
    want = TimerKind::kSend;
  } else if (where == h2::FrameTracker::Where::kControl) {
    want = TimerKind::kHeader;  // a frame or header block started and not finished: slowloris
  } else if (where == h2::FrameTracker::Where::kData || reading_bodies_ > 0) {
    want = TimerKind::kBody;
  } else if (session_->open_streams() == 0) {
    want = seen_request_ ? TimerKind::kIdle : TimerKind::kHeader;
  }
  // Header and idle deadlines run from when the state began and are never extended;
  // body and send deadlines are per stall, so progress re-arms them.
  bool rearm = want != timer_kind_ || (want == TimerKind::kBody && read_progress_) ||
               (want == TimerKind::kSend && write_progress_);
  read_progress_ = write_progress_ = false;
  if (!rearm) return;
  timer_kind_ = want;
  switch (want) {
    case TimerKind::kNone:
      worker_->loop().Disarm(&timer_);
      break;
    case TimerKind::kHeader:
      worker_->loop().Arm(&timer_, o.header_timeout_ms);
      break;
    case TimerKind::kIdle:
      worker_->loop().Arm(&timer_, o.idle_timeout_ms);
      break;
    case TimerKind::kBody:
      worker_->loop().Arm(&timer_, o.body_timeout_ms);
      break;
    case TimerKind::kSend:
      worker_->loop().Arm(&timer_, o.send_timeout_ms);
      break;
  }
}

void Http2Connection::OnTimeout() {
  TimerKind kind = timer_kind_;
  timer_kind_ = TimerKind::kNone;
  switch (kind) {
    case TimerKind::kBody:
      KEEL_LOG(Debug, "http2") << peer_ip_ << ": request body timeout";
      for (Stream* s : std::vector<Stream*>(streams_.begin(), streams_.end())) {
        if (!s->reading_body) continue;
        s->reading_body = false;
        reading_bodies_--;
        s->DropExchange();
        if (s->response_started)
          session_->Reset(s, h2::kCancel);
        else
          RespondLocal(s, 408, "request body timeout\n");
      }
      if (session_->where() != h2::FrameTracker::Where::kData) break;
      [[fallthrough]];  // a DATA frame stuck half-way blocks the whole connection
    case TimerKind::kHeader:
    case TimerKind::kIdle:
      session_->Shutdown();
      WriteOut();
      Close();
      return;
    case TimerKind::kSend:
    case TimerKind::kNone:
      Close();
      return;
  }
  WriteOut();
  AfterIo();
}

void Http2Connection::CloseWhenIdle() {
  if (closed_ || draining_) return;
  draining_ = true;
  session_->Shutdown();
  if (in_events_) return;
  WriteOut();
  AfterIo();
}

void Http2Connection::Close() {
  if (closed_) return;
  closed_ = true;
  worker_->loop().Disarm(&timer_);
  worker_->loop().Remove(fd_);
  for (Stream* s : streams_) {
    s->gone = true;
    s->DropExchange();
  }
  io_->Shutdown();
  ::shutdown(fd_, SHUT_RDWR);
  worker_->RemoveConnection(this);
  worker_->loop().Defer([this] { delete this; });
}

}  // namespace keel::proxy
