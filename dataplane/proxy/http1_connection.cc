// Http1Connection, the request side: socket reads, the strict parser, timeouts,
// routing and policies, request bodies towards the exchange, keep-alive and close.
// The response side (what goes back to the client) is http1_response.cc.
#include "dataplane/proxy/http1_connection.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <optional>

#include "common/log.h"
#include "dataplane/http2/http2_connection.h"
#include "dataplane/proxy/forward.h"
#include "dataplane/proxy/worker.h"
#include "dataplane/tls/https_redirect.h"

namespace keel::proxy {
namespace {
constexpr size_t kReadChunk = 16384;
constexpr size_t kMaxBufferedIn = 256 * 1024;  // pipelined / not-yet-forwarded input
}  // namespace

Http1Connection::Http1Connection(Worker* worker, int fd, const net::Address& peer, uint16_t local_port,
                                 std::unique_ptr<net::Transport> transport)
    : worker_(worker),
      fd_(fd),
      io_(transport ? std::move(transport) : std::make_unique<net::PlainTransport>(fd)),
      peer_(peer),
      peer_ip_(peer.Ip()),
      local_port_(local_port),
      timer_([this] { OnTimeout(); }) {}

Http1Connection::~Http1Connection() {
  exchange_.reset();
  if (fd_ >= 0) ::close(fd_);
}

void Http1Connection::Start() {
  interest_ = EPOLLIN | EPOLLRDHUP;
  worker_->loop().Add(fd_, interest_, this);
  ArmTimer(worker_->options().header_timeout_ms);
}

void Http1Connection::ArmTimer(uint32_t ms) { worker_->loop().Arm(&timer_, ms); }

void Http1Connection::OnTimeout() {
  switch (state_) {
    case State::kHead:
      // Slowloris: the header deadline runs from the first byte and is never extended.
      if (!in_.empty()) {
        close_after_response_ = true;
        RespondLocal(408, "request header timeout\n");
      } else {
        Close();
      }
      return;
    case State::kBody:
      KEEL_LOG(Debug, "http1") << peer_ip_ << ": request body timeout";
      if (!response_started_) {
        if (exchange_) exchange_.reset();
        close_after_response_ = true;
        RespondLocal(408, "request body timeout\n");
        return;
      }
      Close();
      return;
    default:
      Close();  // idle keep-alive, or a client that stopped reading its response
  }
}

void Http1Connection::UpdateInterest() {
  if (state_ == State::kClosed) return;
  uint32_t want = EPOLLRDHUP;
  if (!paused_for_upstream_ && in_.size() < kMaxBufferedIn) want |= EPOLLIN;
  if (!out_.empty()) want |= EPOLLOUT;
  if (want != interest_) {
    worker_->loop().Modify(fd_, want, this);
    interest_ = want;
  }
}

void Http1Connection::OnEvents(uint32_t events) {
  if (state_ == State::kClosed) return;
  if (events & EPOLLOUT) {
    Flush();
    if (state_ == State::kClosed) return;
  }
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) ReadSome();
}

void Http1Connection::ReadSome() {
  bool eof = false;
  while (in_.size() < kMaxBufferedIn && !paused_for_upstream_) {
    char* p = in_.Prepare(kReadChunk);
    ssize_t n = io_->Read(p, kReadChunk);
    if (n > 0) {
      in_.Commit(static_cast<size_t>(n));
      worker_->stats().bytes_in.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
      if (static_cast<size_t>(n) < kReadChunk) break;
      continue;
    }
    if (n == 0) {
      eof = true;
      break;
    }
    if (errno == EAGAIN || errno == EINTR) break;
    Close();
    return;
  }
  if (state_ == State::kIdle && !in_.empty()) {
    state_ = State::kHead;
    started_ms_ = worker_->loop().now();
    ArmTimer(worker_->options().header_timeout_ms);
  }
  if (state_ == State::kTunnel) {
    if (exchange_ && !in_.empty()) exchange_->SendTunnel(in_.view());
    in_.Clear();
    if (eof) Close();
    return;
  }
  Process();
  if (state_ == State::kClosed) return;
  if (eof) {
    // A client that half-closes after sending its request still gets its answer;
    // an idle or mid-head one is simply gone.
    if (state_ == State::kIdle || state_ == State::kHead) {
      Close();
      return;
    }
    if (state_ == State::kBody) {
      if (exchange_) exchange_.reset();
      Close();
      return;
    }
    close_after_response_ = true;
    // Stop polling a half-closed socket for input (level-triggered RDHUP would spin).
    paused_for_upstream_ = true;
  }
  UpdateInterest();
}

void Http1Connection::Process() {
  while (state_ == State::kHead || state_ == State::kBody) {
    if (state_ == State::kBody) {
      if (!PumpBody()) return;
      continue;
    }
    http1::RequestHead head;
    auto r = http1::ParseRequestHead(in_.view(), worker_->options().downstream_limits, &head, &hint_);
    if (r.status == http1::ParseStatus::NeedMore) return;
    if (r.status == http1::ParseStatus::Error) {
      keep_alive_ = false;
      close_after_response_ = true;
      in_.Clear();
      RespondLocal(r.http_status, std::string(r.reason) + "\n");
      return;
    }
    if (r.status == http1::ParseStatus::H2Preface) {
      // h2c prior knowledge (RFC 9113 §3.3). Only on a connection with nothing of ours
      // left to send; a preface after HTTP/1 responses is a confused client.
      if (out_.empty()) {
        HandOffToHttp2(nullptr, 0);
        return;
      }
      keep_alive_ = false;
      close_after_response_ = true;
      in_.Clear();
      RespondLocal(505, "HTTP/2 prior knowledge is not enabled on this listener\n");
      return;
    }
    if (head.h2c_upgrade && out_.empty() && !worker_->draining() && Http2Connection::CanUpgrade(head)) {
      HandOffToHttp2(&head, r.consumed);
      return;
    }
    HandleHead(head, r.consumed);
  }
}

void Http1Connection::HandOffToHttp2(const http1::RequestHead* upgrade, size_t consumed) {
  worker_->loop().Disarm(&timer_);
  worker_->loop().Remove(fd_);  // the h2 connection registers the fd as its own handler
  auto* h2 = new Http2Connection(worker_, fd_, peer_, local_port_, std::move(io_));
  worker_->ReplaceConnection(this, h2);
  fd_ = -1;
  state_ = State::kClosed;
  // Start copies what it keeps: `upgrade` and the rest of in_ die with us.
  h2->Start(in_.view().substr(consumed), upgrade);
  worker_->loop().Defer([this] { delete this; });
}

void Http1Connection::HandleHead(const http1::RequestHead& head, size_t consumed) {
  worker_->stats().requests.fetch_add(1, std::memory_order_relaxed);
  method_.assign(head.method);
  host_.assign(head.host);
  path_.assign(head.target);
  minor_version_ = head.minor_version;
  keep_alive_ = head.keep_alive && !worker_->draining();
  head_request_ = head.method == "HEAD";
  body_kind_ = head.body;
  body_remaining_ = head.content_length;
  body_received_ = 0;
  response_started_ = response_done_ = false;
  bytes_out_at_start_ = bytes_out_;
  auto rid = FindHeader(head.fields(), "x-request-id");
  if (rid && ValidRequestId(*rid))
    request_id_.assign(*rid);
  else
    worker_->NewRequestId(&request_id_);
  record_.Begin(head, peer_ip_, head.minor_version == 0 ? "HTTP/1.0" : "HTTP/1.1", consumed);

  RouteDecision d;
  const Runtime* rt = worker_->runtime();
  if (!rt) {
    in_.Consume(consumed);
    close_after_response_ = body_kind_ != http1::BodyKind::None;
    RespondLocal(503, "no configuration received yet\n", "retry-after: 5\r\n");
    return;
  }
  rt->Route(head, peer_ip_, worker_->Random(), &d);
  if (!io_->secure()) tls::RedirectToHttps(*rt, head, &d);
  labels_ = d.labels;
  record_.Routed(d.labels);
  body_limit_ = d.policy && d.policy->max_request_body_bytes() ? d.policy->max_request_body_bytes()
                                                               : worker_->options().max_body_bytes;
  // Route policies (CORS, limits, response headers): dataplane/policy.
  bool policy_answers = d.kind == RouteDecision::Kind::kForward && d.policy &&
                        worker_->policy().Evaluate(*d.policy, d.labels.namespace_, d.labels.ingress,
                                                   policy::Facts(head.fields(), head.method, peer_ip_),
                                                   worker_->loop().now(), &verdict_);
  // No endpoint at all: a stored object may still answer (grace, stale-if-error).
  if (d.kind == RouteDecision::Kind::kNoEndpoints &&
      cache_.ServeWithoutOrigin(worker_, head, io_->secure() ? "https" : "http", d)) {
    in_.Consume(consumed);  // the head's views are dead from here on
    state_ = State::kAwaitResponse;
    worker_->loop().Disarm(&timer_);
    return;
  }
  if (d.kind != RouteDecision::Kind::kForward || policy_answers) {
    in_.Consume(consumed);
    // We don't read a body we won't forward: close after answering instead of
    // guessing where the next request starts.
    if (body_kind_ != http1::BodyKind::None &&
        !(body_kind_ == http1::BodyKind::ContentLength && body_remaining_ == 0)) {
      close_after_response_ = true;
    }
    switch (d.kind) {
      case RouteDecision::Kind::kNotFound:
        RespondLocal(404, "no route for this host and path\n");
        break;
      case RouteDecision::Kind::kNoEndpoints:
        RespondLocal(503, "no endpoint available\n");
        break;
      case RouteDecision::Kind::kRedirect: {
        std::string loc = "location: " + d.location + "\r\n";
        RespondLocal(d.status, "", loc);
        break;
      }
      case RouteDecision::Kind::kDirect:
        RespondLocal(d.status, d.body, {},
                     d.content_type.empty() ? "text/plain; charset=utf-8" : d.content_type);
        break;
      case RouteDecision::Kind::kForward:
        scratch_.clear();  // RespondLocal reuses scratch_ only after reading its arguments
        policy::AppendHttp1(verdict_.fields, &scratch_);
        RespondLocal(verdict_.status, verdict_.body, std::string(scratch_));
        break;
    }
    return;
  }
  if (body_kind_ == http1::BodyKind::ContentLength && body_remaining_ > body_limit_) {
    in_.Consume(consumed);
    close_after_response_ = true;
    RespondLocal(413, "request body too large\n");
    return;
  }
  Forward(head, d);
  in_.Consume(consumed);  // the head's views are dead from here on
  if (state_ == State::kClosed) return;
  if (body_kind_ == http1::BodyKind::None ||
      (body_kind_ == http1::BodyKind::ContentLength && body_remaining_ == 0)) {
    state_ = State::kAwaitResponse;
    worker_->loop().Disarm(&timer_);
  } else {
    state_ = State::kBody;
    if (body_kind_ == http1::BodyKind::Chunked)
      chunked_ = http1::ChunkedDecoder(worker_->options().downstream_limits);
    ArmTimer(worker_->options().body_timeout_ms);
  }
}

void Http1Connection::Forward(const http1::RequestHead& head, const RouteDecision& d) {
  ExchangeRequest req;
  req.head.reserve(512 + head.num_headers * 48);
  ForwardInfo info;
  info.client_ip = peer_ip_;
  info.scheme = io_->secure() ? "https" : "http";
  info.local_port = local_port_;
  info.request_id = request_id_;
  info.host_override = d.host_override;
  info.trust_forwarded = worker_->options().trust_forwarded_headers;
  // An h2c upgrade we did not take (request body, draining) is ignored, RFC 9110 §7.8:
  // the upstream must not see Upgrade: h2c.
  std::optional<http1::RequestHead> plain;
  if (head.h2c_upgrade) {
    plain.emplace(head);
    plain->upgrade = plain->h2c_upgrade = false;
  }
  AppendUpstreamHead(plain ? *plain : head, d.upstream_path, info, &req.head);
  if (d.policy) {
    for (const auto& h : d.policy->request_headers_to_add()) {
      req.head += h.name() + ": " + h.value() + "\r\n";
    }
  }
  switch (head.body) {
    case http1::BodyKind::None:
      req.body = RequestBody::kNone;
      break;
    case http1::BodyKind::ContentLength:
      req.body = RequestBody::kContentLength;
      break;
    case http1::BodyKind::Chunked:
      req.body = RequestBody::kChunked;
      break;
    default:
      req.body = RequestBody::kNone;
      break;
  }
  req.content_length = head.content_length;
  req.head_method = head_request_;
  req.idempotent = head.method == "GET" || head.method == "HEAD" || head.method == "OPTIONS" ||
                   head.method == "PUT" || head.method == "DELETE" || head.method == "TRACE";
  req.upgrade = head.upgrade && !head.h2c_upgrade;
  worker_->runtime()->HashInputs(head, d.cluster, peer_ip_, &req.hash_key, &req.sticky_value);
  if (head.expect_continue && req.body != RequestBody::kNone) {
    // Answer 100 ourselves (as nginx does): the upstream sees a plain request.
    out_.Append("HTTP/1.1 100 Continue\r\n\r\n");
    Flush();
  }
  record_.UpstreamStarted();
  exchange_ = std::make_unique<Exchange>(worker_, &cache_);
  cache_.Start(worker_, head, info.scheme, d, exchange_.get(), std::move(req));
}

bool Http1Connection::PumpBody() {
  if (!exchange_) {
    Close();
    return false;
  }
  if (exchange_->Backlogged()) {
    paused_for_upstream_ = true;
    return false;
  }
  if (in_.empty()) return false;
  ArmTimer(worker_->options().body_timeout_ms);
  if (body_kind_ == http1::BodyKind::ContentLength) {
    size_t n = std::min<uint64_t>(body_remaining_, in_.size());
    exchange_->SendBody(in_.view().substr(0, n));
    in_.Consume(n);
    body_remaining_ -= n;
    if (body_remaining_ == 0) {
      exchange_->EndBody();
      state_ = State::kAwaitResponse;
      worker_->loop().Disarm(&timer_);
    }
    return state_ == State::kBody;
  }
  size_t used = 0;
  bool too_big = false;
  auto r = FeedChunked(chunked_, in_.view(), &used, [&](std::string_view piece) {
    body_received_ += piece.size();
    if (body_received_ > body_limit_) too_big = true;
    if (!too_big) exchange_->SendBody(piece);
  });
  in_.Consume(used);
  if (too_big || r == http1::ChunkedDecoder::Status::Error) {
    exchange_.reset();
    close_after_response_ = true;
    in_.Clear();
    if (response_started_) {
      Close();
    } else {
      RespondLocal(too_big ? 413 : 400, too_big ? "request body too large\n" : "bad chunked body\n");
    }
    return false;
  }
  if (r == http1::ChunkedDecoder::Status::Done) {
    exchange_->EndBody();
    state_ = State::kAwaitResponse;
    worker_->loop().Disarm(&timer_);
    return false;
  }
  return used > 0 && state_ == State::kBody;
}

void Http1Connection::OnUpstreamWritable() {
  if (!paused_for_upstream_ || !exchange_ || exchange_->Backlogged()) return;
  paused_for_upstream_ = false;
  Process();
  if (state_ != State::kClosed) UpdateInterest();
}

void Http1Connection::FinishRequest() {
  if (exchange_) record_.UpstreamDone(exchange_->upstream_address(), exchange_->upstream_status());
  record_.Finish(status_, request_id_, body_received_, bytes_out_ + out_.size() - bytes_out_at_start_);
  if (status_ >= 100 && status_ < 600) {
    worker_->stats().responses_by_class[status_ / 100].fetch_add(1, std::memory_order_relaxed);
  }
  if (exchange_) {
    // We may be inside one of its callbacks: destroy it after the current event.
    worker_->loop().Defer([ex = exchange_.release()] { delete ex; });
  }
  bool reusable = keep_alive_ && !close_after_response_ && state_ != State::kBody;
  verdict_.Reset();  // gives back the in-flight slot
  ResetRequest();
  if (!reusable) {
    state_ = State::kAwaitResponse;  // nothing more is read; close once flushed
    close_after_response_ = true;
    worker_->loop().Disarm(&timer_);
    Flush();
    return;
  }
  state_ = State::kIdle;
  Flush();
  if (state_ == State::kClosed) return;
  if (!in_.empty()) {
    // Pipelined request already buffered.
    state_ = State::kHead;
    started_ms_ = worker_->loop().now();
    ArmTimer(worker_->options().header_timeout_ms);
    Process();
  } else {
    ArmTimer(worker_->options().idle_timeout_ms);
    if (out_.empty()) in_.Shrink();
  }
  if (state_ != State::kClosed) UpdateInterest();
}

void Http1Connection::ResetRequest() {
  resp_mode_ = RespMode::kNone;
  paused_for_client_ = false;
  body_kind_ = http1::BodyKind::None;
  response_started_ = false;
}

void Http1Connection::Flush() {
  while (!out_.empty()) {
    ssize_t n = io_->Write(out_.view().data(), out_.size());
    if (n > 0) {
      out_.Consume(static_cast<size_t>(n));
      bytes_out_ += static_cast<uint64_t>(n);
      worker_->stats().bytes_out.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      // The client is slow to read: give it send_timeout per stall.
      if (state_ == State::kAwaitResponse || state_ == State::kIdle) {
        ArmTimer(worker_->options().send_timeout_ms);
      }
      break;
    }
    Close();
    return;
  }
  if (out_.empty()) {
    if (paused_for_client_ && exchange_) {
      paused_for_client_ = false;
      exchange_->PauseUpstream(false);
    }
    if (close_after_response_ && response_done_) {
      Close();
      return;
    }
    out_.Shrink();
  }
  UpdateInterest();
}

void Http1Connection::CloseWhenIdle() {
  if (state_ == State::kIdle && out_.empty()) {
    Close();
    return;
  }
  close_after_response_ = true;
  keep_alive_ = false;
}

void Http1Connection::Close() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  if (exchange_) record_.UpstreamDone(exchange_->upstream_address(), exchange_->upstream_status());
  record_.Finish(response_started_ ? status_ : 0, request_id_, body_received_,
                 bytes_out_ - bytes_out_at_start_);
  worker_->loop().Disarm(&timer_);
  worker_->loop().Remove(fd_);
  if (exchange_) {
    if (exchange_->upstream_status() == 101) exchange_->TunnelClosed();
    worker_->loop().Defer([ex = exchange_.release()] { delete ex; });
  }
  io_->Shutdown();
  ::shutdown(fd_, SHUT_RDWR);
  worker_->RemoveConnection(this);
  worker_->loop().Defer([this] { delete this; });
}

}  // namespace keel::proxy
