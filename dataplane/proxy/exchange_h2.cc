// Exchange over an HTTP/2 upstream (cluster protocol H2C, or H2 with upstream TLS):
// the same endpoint choice, retries and outcome reporting as the HTTP/1 path in
// exchange.cc, with one multiplexed stream per attempt instead of a pooled socket.
// Response trailers (gRPC's grpc-status) pass through to the sink.
#include <charconv>
#include <optional>
#include <vector>

#include "common/log.h"
#include "dataplane/http1/fields.h"
#include "dataplane/proxy/exchange.h"
#include "dataplane/proxy/worker.h"

namespace keel::proxy {
namespace {

bool IEq(std::string_view a, std::string_view b) { return http1::EqualsIgnoreCase(a, b); }

// RFC 9113 §8.2.2: connection-specific fields are malformed in HTTP/2. The HTTP/1
// head already lost hop-by-hop fields; these are the ones it may still carry.
bool NotForH2(std::string_view name) {
  return IEq(name, "connection") || IEq(name, "keep-alive") || IEq(name, "proxy-connection") ||
         IEq(name, "transfer-encoding") || IEq(name, "upgrade") || IEq(name, "te") || IEq(name, "host") ||
         IEq(name, "content-length");
}

}  // namespace

void Exchange::BuildH2Request() {
  // req_.head is the HTTP/1 head AppendUpstreamHead wrote ("METHOD target HTTP/1.1",
  // then "name: value" lines, host first, framing not added yet): our own text, so
  // splitting it is safe, and routing/forwarding rules stay in one place.
  std::string_view head = req_.head;
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  size_t sp1 = line.find(' ');
  size_t sp2 = line.rfind(' ');
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::vector<std::pair<std::string_view, std::string_view>> fields;
  std::string_view authority;
  for (size_t pos = eol + 2; pos < head.size();) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string_view::npos) end = head.size();
    std::string_view l = head.substr(pos, end - pos);
    pos = end + 2;
    size_t colon = l.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = l.substr(0, colon);
    std::string_view value = l.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (IEq(name, "host")) authority = value;
    if (NotForH2(name)) continue;
    fields.emplace_back(name, value);
  }
  h2_fields_.Clear();
  h2_fields_.Add(":method", method);
  h2_fields_.Add(":scheme", sel_->cluster().settings().upstream_tls() ? "https" : "http");
  h2_fields_.Add(":authority", authority);
  h2_fields_.Add(":path", target);
  // We pass trailers on (h2 clients get them as trailers, HTTP/1.1 ones in the last
  // chunk), and gRPC servers expect to be told so (gRPC over HTTP/2 protocol spec).
  h2_fields_.Add("te", "trailers");
  for (const auto& [name, value] : fields) h2_fields_.Add(name, value);
  if (req_.body == RequestBody::kContentLength)
    h2_fields_.Add("content-length", std::to_string(req_.content_length));
}

void Exchange::AttemptH2(const upstream::Endpoint& ep, uint32_t connect_ms, const tls::ClientContext* tls) {
  H2Target target;
  target.addr = &ep.addr;
  target.addr_len = ep.addr_len;
  target.key = ep.key;
  target.connect_timeout_ms = connect_ms;
  target.tls = tls;
  target.sni = sel_->cluster().settings().upstream_sni();
  bool has_body = req_.body != RequestBody::kNone &&
                  !(req_.body == RequestBody::kContentLength && req_.content_length == 0);
  auto call = worker_->h2().Open(target, h2_fields_, has_body, this);
  if (!call.ok()) {
    CountConnectFailure();
    ReportEndpoint(upstream::Outcome::kConnectFailure);
    if (RetryAllowed(true)) return Attempt();
    return Fail(502, "cannot connect to upstream");
  }
  call_ = *call;
  state_ = State::kConnecting;
  if (call_->connected()) OnH2Connected();
}

void Exchange::OnH2Connected() {
  state_ = State::kAwaitingHead;
  call_->SetReadTimeout(ReadTimeoutMs());
  if (!pending_.empty()) {
    call_->SendBody(pending_);
    body_bytes_sent_ = true;
    std::string().swap(pending_);
  }
  if (body_done_ && req_.body != RequestBody::kNone) call_->EndBody();
}

void Exchange::SendBodyH2(std::string_view data) {
  if (call_ && state_ != State::kConnecting) {
    call_->SendBody(data);
    body_bytes_sent_ = true;
  } else {
    pending_.append(data);  // kept until connected: a connect failure may be retried
  }
}

void Exchange::OnH2Writable() { sink_->OnUpstreamWritable(); }

void Exchange::OnH2Head(int status, const h2::FieldList& fields, bool end_stream) {
  upstream_status_ = status;
  bool retry_status = false;
  for (uint32_t s : sel_->cluster().retry().on_statuses()) retry_status |= static_cast<int>(s) == status;
  if (retry_status && body_done_ && RetryAllowed(false)) {
    ReportEndpoint(upstream::Outcome::kStatus5xx);
    worker_->h2().Release(call_);
    call_ = nullptr;
    Attempt();
    return;
  }
  status_outcome_ = status >= 500 ? upstream::Outcome::kStatus5xx : upstream::Outcome::kSuccess;
  http1::ResponseHead head;
  head.status = status;
  if (fields.size() > head.headers.size()) {
    ReportEndpoint(upstream::Outcome::kConnectFailure);
    return Fail(502, "too many response header fields from upstream");
  }
  std::optional<uint64_t> length;
  for (size_t i = 0; i < fields.size(); ++i) {
    auto f = fields.at(i);
    head.headers[head.num_headers++] = {f.name, f.value};
    if (f.name == "content-length") {
      uint64_t v = 0;
      auto [p, ec] = std::from_chars(f.value.data(), f.value.data() + f.value.size(), v);
      if (ec == std::errc() && p == f.value.data() + f.value.size()) length = v;
    }
  }
  // As the HTTP/1 parser frames it (RFC 9112 §6.3): no body for HEAD, 1xx, 204, 304;
  // otherwise the length nghttp2 has checked against the DATA, or "until the end".
  if (req_.head_method || status == 204 || status == 304 || (end_stream && !length)) {
    head.body = http1::BodyKind::None;
  } else if (length) {
    head.body = http1::BodyKind::ContentLength;
    head.content_length = *length;
  } else {
    head.body = http1::BodyKind::Chunked;
  }
  if (req_.head_method && length) head.content_length = *length;
  sink_->OnResponseHead(head, false);
  head_sent_ = true;
  state_ = State::kBody;
  if (end_stream) FinishH2();
}

void Exchange::OnH2Data(std::string_view data) {
  if (state_ != State::kBody) return;
  sink_->OnResponseBody(data);
  if (state_ == State::kDone || call_ == nullptr) return;  // the sink gave up
  if (upstream_paused_)
    h2_unconsumed_ += data.size();
  else
    call_->Consume(data.size());
}

void Exchange::OnH2Trailers(const h2::FieldList& fields) {
  if (state_ != State::kBody) return;
  std::vector<http1::Header> trailers;
  trailers.reserve(fields.size());
  for (size_t i = 0; i < fields.size(); ++i) trailers.push_back({fields.at(i).name, fields.at(i).value});
  sink_->OnResponseTrailers(trailers);
}

void Exchange::OnH2End() {
  if (state_ == State::kBody) return FinishH2();
  // The stream ended with no response head taken (the upstream ended it while we
  // were retrying or failing): the call is gone either way.
  call_ = nullptr;
  Fail(502, "upstream ended the stream without a usable response");
}

void Exchange::FinishH2() {
  ReportEndpoint(status_outcome_);
  state_ = State::kDone;
  if (call_) worker_->h2().Release(call_);
  call_ = nullptr;
  sink_->OnResponseEnd();  // may destroy this exchange
}

void Exchange::OnH2Failed(Failure failure, const char* why) {
  call_ = nullptr;  // the connection detached us already
  bool nothing_received = state_ == State::kConnecting || state_ == State::kAwaitingHead;
  if (failure == Failure::kConnect) CountConnectFailure();
  ReportEndpoint(upstream::Outcome::kConnectFailure);
  if (nothing_received) {
    // Nothing reached the upstream (connect failure), or it said it did not process
    // the stream (REFUSED_STREAM, RFC 9113 §8.7): any request may go elsewhere, as
    // long as we still hold its body. A connection lost with no answer is retried
    // only for idempotent bodiless requests, like a dead HTTP/1 keep-alive socket.
    bool safe = failure == Failure::kConnect || (failure == Failure::kRefused && !body_bytes_sent_);
    if ((safe && RetryAllowed(true)) || (failure == Failure::kLost && RetryAllowed(false))) {
      Attempt();
      return;
    }
  }
  KEEL_LOG(Debug, "proxy") << "upstream " << upstream_addr_ << " (h2): " << why;
  Fail(failure == Failure::kTimeout ? 504 : 502, why);
}

}  // namespace keel::proxy
