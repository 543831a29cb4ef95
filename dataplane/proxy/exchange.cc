#include "dataplane/proxy/exchange.h"

#include <time.h>

#include <atomic>
#include <charconv>

#include "common/log.h"
#include "common/metrics/metrics.h"
#include "dataplane/proxy/forward.h"
#include "dataplane/proxy/worker.h"

namespace keel::proxy {
namespace {
constexpr size_t kMaxPendingBody = 1 << 20;  // before connect; beyond it the client waits
constexpr size_t kBacklogBytes = 256 * 1024;

void AppendHex(std::string* out, size_t n) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, n, 16);
  out->append(buf, p);
}
}  // namespace

Exchange::Exchange(Worker* worker, ResponseSink* sink) : worker_(worker), sink_(sink) {}

Exchange::~Exchange() {
  if (conn_) {
    // Abandoned mid-flight (client went away): the connection's state is unknown.
    worker_->pool().Close(conn_);
    conn_ = nullptr;
  }
  if (call_) worker_->h2().Release(call_);  // cancels the stream, keeps the connection
  ReportEndpoint(upstream::Outcome::kCancelled);
  if (sel_) {
    if (retrying_) sel_->retry_budget().OnRetryEnd();
    sel_->retry_budget().OnRequestEnd();
  }
}

uint64_t Exchange::NowNs() const {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

void Exchange::Start(const RouteDecision& decision, ExchangeRequest request) {
  decision_ = decision;
  req_ = std::move(request);
  sel_ = worker_->selector(decision_.cluster);
  sel_->retry_budget().OnRequestStart();
  body_done_ = req_.body == RequestBody::kNone ||
               (req_.body == RequestBody::kContentLength && req_.content_length == 0);
  const auto protocol = sel_->cluster().settings().protocol();
  if (protocol == config::v1::H2C || protocol == config::v1::H2) {
    h2_ = true;
    // RFC 8441 extended CONNECT would carry a WebSocket over h2; gRPC backends never
    // need it, so a switch request towards one is refused plainly.
    if (req_.upgrade) return Fail(502, "protocol upgrade over an HTTP/2 upstream is not supported");
    BuildH2Request();
    Attempt();
    return;
  }
  switch (req_.body) {
    case RequestBody::kNone: req_.head += "\r\n"; break;
    case RequestBody::kContentLength:
      req_.head += "content-length: ";
      req_.head += std::to_string(req_.content_length);
      req_.head += "\r\n\r\n";
      break;
    case RequestBody::kChunked: req_.head += "transfer-encoding: chunked\r\n\r\n"; break;
  }
  Attempt();
}

bool Exchange::RetryAllowed(bool connect_failure) const {
  const auto& retry = sel_->cluster().retry();
  // Connect failures get one retry even without a policy: nothing reached the
  // endpoint, and a pod that just went away is the common cause.
  uint32_t max_retries = std::max<uint32_t>(retry.num_retries(), connect_failure ? 1 : 0);
  if (attempts_ > max_retries) return false;
  // The budget bounds the load retries add to upstreams. A refused connection added
  // none, and when a pod dies every request in flight to it fails at once: under the
  // budget's floor of 3 the fourth would get a 502 while other endpoints are fine.
  // Attempts stay bounded by max_retries, and `tried` keeps them off the dead one.
  if (connect_failure) return true;
  if (!req_.idempotent || body_bytes_sent_ || req_.body != RequestBody::kNone) return false;
  return sel_->retry_budget().AllowRetry(retry.budget_percent() ? retry.budget_percent() : 20);
}

void Exchange::Attempt() {
  attempts_++;
  if (attempts_ > 1 && !retrying_) {
    retrying_ = true;
    sel_->retry_budget().OnRetryStart();
    worker_->stats().retries.fetch_add(1, std::memory_order_relaxed);
  }
  upstream::PickContext ctx;
  ctx.hash_key = req_.hash_key;
  ctx.sticky_cookie = req_.sticky_value;
  ctx.tried = &tried_;
  ctx.now_ns = NowNs();
  auto picked = sel_->Pick(ctx);
  if (!picked) {
    Fail(503, tried_.empty() ? "no healthy endpoint" : "no endpoint left to retry");
    return;
  }
  const upstream::Endpoint& ep = sel_->endpoint(*picked);
  tried_.Add(ep.sticky_hash);
  upstream_addr_ = ep.key;
  affinity_header_.clear();
  if (sel_->cluster().sticky() && req_.sticky_value != ep.sticky_value) {
    const auto& sticky = sel_->cluster().lb().sticky();
    affinity_header_ = "set-cookie: " + sticky.name() + "=" + ep.sticky_value +
                       "; Path=" + (sticky.path().empty() ? "/" : sticky.path()) + "; HttpOnly";
    if (sticky.max_age_s()) affinity_header_ += "; Max-Age=" + std::to_string(sticky.max_age_s());
    if (sticky.secure()) affinity_header_ += "; Secure";
    affinity_header_ += "\r\n";
  }
  ticket_ = sel_->OnRequestStart(*picked);
  ticket_live_ = true;
  attempt_started_ns_ = ctx.now_ns;
  const auto& timeouts = sel_->cluster().settings().timeouts();
  uint32_t connect_ms = timeouts.connect_ms() ? timeouts.connect_ms() : worker_->options().default_connect_timeout_ms;
  const auto& settings = sel_->cluster().settings();
  const tls::ClientContext* tls = settings.upstream_tls() ? worker_->options().upstream_tls.get() : nullptr;
  if (settings.upstream_tls() && !tls) return Fail(502, "upstream TLS is not available");
  if (h2_) return AttemptH2(ep, connect_ms, tls);
  auto conn = worker_->pool().Acquire(ep.addr, ep.addr_len, tls ? ep.key + "#tls:" + settings.upstream_sni() : ep.key,
                                      connect_ms, this, tls, settings.upstream_sni());
  if (!conn.ok()) {
    ReportEndpoint(upstream::Outcome::kConnectFailure);
    if (RetryAllowed(true)) return Attempt();
    Fail(502, "cannot connect to upstream");
    return;
  }
  conn_ = *conn;
  state_ = State::kConnecting;
  // A reused connection is connected already.
  if (conn_->reused()) OnUpstreamConnected(conn_);
}

uint32_t Exchange::ReadTimeoutMs() const {
  uint32_t read_ms = sel_->cluster().settings().timeouts().read_ms();
  return decision_.timeout_ms ? decision_.timeout_ms : (read_ms ? read_ms : worker_->options().default_read_timeout_ms);
}

void Exchange::OnUpstreamConnected(UpstreamConn* c) {
  state_ = State::kAwaitingHead;
  c->SetReadTimeout(ReadTimeoutMs());
  WriteHeadAndPending(c);
}

void Exchange::WriteHeadAndPending(UpstreamConn* c) {
  c->out().Append(req_.head);
  if (!pending_.empty()) {
    c->out().Append(pending_);
    body_bytes_sent_ = true;
    std::string().swap(pending_);
  }
  if (body_done_ && req_.body == RequestBody::kChunked) c->out().Append("0\r\n\r\n");
  c->Flush();
}

void Exchange::QueueBody(std::string_view data) {
  std::string framed;
  std::string* dst = &pending_;
  bool direct = conn_ && state_ != State::kConnecting;
  if (direct) dst = &framed;
  if (req_.body == RequestBody::kChunked) {
    AppendHex(dst, data.size());
    dst->append("\r\n");
    dst->append(data);
    dst->append("\r\n");
  } else {
    dst->append(data);
  }
  if (direct) {
    conn_->out().Append(framed);
    body_bytes_sent_ = true;
    conn_->Flush();
  }
}

void Exchange::SendBody(std::string_view data) {
  if (data.empty() || state_ == State::kDone) return;
  if (h2_) return SendBodyH2(data);
  QueueBody(data);
}

void Exchange::EndBody() {
  if (body_done_) return;
  body_done_ = true;
  if (h2_) {
    if (call_ && state_ != State::kConnecting) call_->EndBody();  // else OnH2Connected ends it
    return;
  }
  if (req_.body != RequestBody::kChunked || state_ == State::kDone) return;
  if (conn_ && state_ != State::kConnecting) {
    conn_->out().Append("0\r\n\r\n");
    conn_->Flush();
  } else {
    pending_.append("0\r\n\r\n");
  }
}

bool Exchange::Backlogged() const {
  if (h2_ && call_ && state_ != State::kConnecting) return call_->queued_bytes() >= kBacklogBytes;
  if (state_ == State::kConnecting || (!conn_ && !call_)) return pending_.size() >= kMaxPendingBody;
  return conn_->out().size() >= kBacklogBytes;
}

void Exchange::OnUpstreamDrained(UpstreamConn*) { sink_->OnUpstreamWritable(); }

void Exchange::PauseUpstream(bool paused) {
  upstream_paused_ = paused;
  if (conn_) conn_->PauseReading(paused);
  // h2: the upstream stream's window stays shut until the client took the bytes.
  if (call_ && !paused && h2_unconsumed_ > 0) {
    call_->Consume(h2_unconsumed_);
    h2_unconsumed_ = 0;
  }
}

void Exchange::SendTunnel(std::string_view data) {
  if (state_ != State::kTunnel || !conn_) return;
  conn_->out().Append(data);
  conn_->Flush();
}

void Exchange::TunnelClosed() {
  if (conn_) {
    worker_->pool().Close(conn_);
    conn_ = nullptr;
  }
  state_ = State::kDone;
}

void Exchange::OnUpstreamReadable(UpstreamConn* c) {
  if (state_ == State::kTunnel) {
    sink_->OnTunnelData(c->in().view());
    c->in().Clear();
    return;
  }
  if (state_ == State::kAwaitingHead && !ParseHead(c)) return;
  if (state_ == State::kBody) PumpBody(c);
}

bool Exchange::ParseHead(UpstreamConn* c) {
  for (;;) {
    http1::ResponseHead head;
    auto r = http1::ParseResponseHead(c->in().view(), worker_->upstream_limits(), req_.head_method ? "HEAD" : "GET",
                                      &head);
    if (r.status == http1::ParseStatus::NeedMore) return false;
    if (r.status != http1::ParseStatus::Done) {
      ReportEndpoint(upstream::Outcome::kConnectFailure);
      Fail(502, "invalid response from upstream");
      return false;
    }
    upstream_status_ = head.status;
    if (head.status == 101) {
      if (!req_.upgrade) {
        Fail(502, "unrequested protocol switch from upstream");
        return false;
      }
      sink_->OnResponseHead(head, true);
      head_sent_ = true;
      c->in().Consume(r.consumed);
      c->SetReadTimeout(0);
      state_ = State::kTunnel;
      ReportEndpoint(upstream::Outcome::kSuccess);
      if (!c->in().empty()) OnUpstreamReadable(c);
      return false;
    }
    if (head.status < 200) {  // 100 Continue (we answered the client ourselves), 103
      c->in().Consume(r.consumed);
      continue;
    }
    bool retry_status = false;
    for (uint32_t s : sel_->cluster().retry().on_statuses()) retry_status |= static_cast<int>(s) == head.status;
    if (retry_status && body_done_ && RetryAllowed(false)) {
      // Don't bother draining the body: this connection is closed, a new try starts.
      ReportEndpoint(upstream::Outcome::kStatus5xx);
      worker_->pool().Close(conn_);
      conn_ = nullptr;
      Attempt();
      return false;
    }
    status_outcome_ = head.status >= 500 ? upstream::Outcome::kStatus5xx : upstream::Outcome::kSuccess;
    switch (head.body) {
      case http1::BodyKind::None: mode_ = BodyMode::kNone; break;
      case http1::BodyKind::ContentLength:
        mode_ = head.content_length ? BodyMode::kLength : BodyMode::kNone;
        remaining_ = head.content_length;
        break;
      case http1::BodyKind::Chunked:
        mode_ = BodyMode::kChunked;
        chunked_ = http1::ChunkedDecoder(worker_->upstream_limits());
        break;
      case http1::BodyKind::UntilClose: mode_ = BodyMode::kUntilClose; break;
    }
    bool keep_alive = head.keep_alive;
    sink_->OnResponseHead(head, false);
    head_sent_ = true;
    c->in().Consume(r.consumed);
    state_ = State::kBody;
    if (mode_ == BodyMode::kNone) {
      Finish(keep_alive);
      return false;
    }
    reuse_ok_ = keep_alive;
    return true;
  }
}

bool Exchange::PumpBody(UpstreamConn* c) {
  std::string_view data = c->in().view();
  switch (mode_) {
    case BodyMode::kLength: {
      size_t n = std::min<uint64_t>(remaining_, data.size());
      if (n) sink_->OnResponseBody(data.substr(0, n));
      if (state_ == State::kDone) return false;  // the sink gave up
      c->in().Consume(n);
      remaining_ -= n;
      if (remaining_ == 0) Finish(reuse_ok_ && c->in().empty());
      return true;
    }
    case BodyMode::kChunked: {
      size_t used = 0;
      bool aborted = false;
      auto r = FeedChunked(chunked_, data, &used, [&](std::string_view piece) {
        if (!aborted) sink_->OnResponseBody(piece);
        aborted = state_ == State::kDone;
      });
      if (aborted) return false;
      c->in().Consume(used);
      if (r == http1::ChunkedDecoder::Status::Error) {
        ReportEndpoint(upstream::Outcome::kConnectFailure);
        Fail(502, "bad chunked encoding from upstream");
        return false;
      }
      if (r == http1::ChunkedDecoder::Status::Done) Finish(reuse_ok_ && c->in().empty());
      return true;
    }
    case BodyMode::kUntilClose:
      if (!data.empty()) sink_->OnResponseBody(data);
      if (state_ != State::kDone) c->in().Clear();
      return true;
    case BodyMode::kNone: return true;
  }
  return true;
}

void Exchange::Finish(bool reusable) {
  ReportEndpoint(status_outcome_);
  state_ = State::kDone;
  UpstreamConn* c = conn_;
  conn_ = nullptr;
  if (c) {
    c->SetReadTimeout(0);
    if (reusable && body_done_ && c->out().empty()) worker_->pool().Release(c);
    else worker_->pool().Close(c);
  }
  sink_->OnResponseEnd();  // may destroy this exchange
}

void Exchange::OnUpstreamClosed(UpstreamConn* c, bool eof, bool during_connect, const char* why) {
  conn_ = nullptr;  // the pool closed it already
  if (state_ == State::kTunnel) {
    state_ = State::kDone;
    sink_->OnResponseEnd();
    return;
  }
  if (state_ == State::kBody && mode_ == BodyMode::kUntilClose && eof) {
    state_ = State::kDone;
    ReportEndpoint(status_outcome_);
    sink_->OnResponseEnd();
    return;
  }
  if (during_connect) CountConnectFailure();
  bool nothing_received = state_ == State::kConnecting || state_ == State::kAwaitingHead;
  bool timeout = std::string_view(why).find("timeout") != std::string_view::npos;
  ReportEndpoint(upstream::Outcome::kConnectFailure);
  if (nothing_received && !timeout) {
    // A connect failure is always safe to retry; so is an idempotent request that
    // met a keep-alive connection the upstream had just closed.
    bool stale_keepalive = !during_connect && c->reused();
    if ((during_connect || stale_keepalive) && RetryAllowed(during_connect)) {
      Attempt();
      return;
    }
  }
  KEEL_LOG(Debug, "proxy") << "upstream " << upstream_addr_ << ": " << why;
  Fail(timeout ? 504 : 502, why);
}

void Exchange::CountConnectFailure() {
  static const metrics::Counter connect_failures = metrics::Registry::Default().AddCounter(
      "keel_upstream_connect_failures_total", "Upstream connections that failed before being established");
  connect_failures.Inc();
}

void Exchange::ReportEndpoint(upstream::Outcome outcome) {
  if (!ticket_live_) return;
  ticket_live_ = false;
  uint64_t now = NowNs();
  sel_->OnRequestEnd(ticket_, now - attempt_started_ns_, outcome, now);
}

void Exchange::Fail(int status, const char* why) {
  if (state_ == State::kDone) return;
  state_ = State::kDone;
  if (conn_) {
    worker_->pool().Close(conn_);
    conn_ = nullptr;
  }
  if (call_) {
    worker_->h2().Release(call_);
    call_ = nullptr;
  }
  ReportEndpoint(upstream::Outcome::kConnectFailure);
  sink_->OnResponseError(head_sent_ ? 0 : status, why);  // may destroy this exchange
}

}  // namespace keel::proxy
