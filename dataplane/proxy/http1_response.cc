// Http1Connection, the response side: what the exchange (or the cache in front of
// it) reports becomes HTTP/1.1 bytes for the client — status line and headers,
// content-length or chunked framing, trailers in the last chunk, a tunnel after a
// 101 — and the locally generated answers (errors, redirects, policy verdicts).
//
// FlushSoon: a response head waits for the end of the event-loop turn before it is
// written, because the upstream read that carried it usually carries the body too,
// and head + body then leave in one send instead of two (measured: 3.0 -> 2.0 sends
// per keep-alive request, bench/harness/perrequest.py). A head whose body comes
// later still leaves within the same turn.
#include <charconv>

#include "dataplane/proxy/forward.h"
#include "dataplane/proxy/http1_connection.h"
#include "dataplane/proxy/worker.h"

namespace keel::proxy {
namespace {
constexpr size_t kMaxBufferedOut = 256 * 1024;  // before the upstream is paused

void AppendChunkHeader(net::Buffer* out, size_t n) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + 20, n, 16);
  *p++ = '\r';
  *p++ = '\n';
  out->Append(std::string_view(buf, static_cast<size_t>(p - buf)));
}
}  // namespace

void Http1Connection::OnResponseHead(const http1::ResponseHead& head, bool upgraded) {
  response_started_ = true;
  trailers_.clear();
  status_ = head.status;
  scratch_.clear();
  scratch_.append(minor_version_ == 0 ? "HTTP/1.0 " : "HTTP/1.1 ");
  scratch_.append(std::to_string(head.status));
  scratch_.push_back(' ');
  scratch_.append(head.reason.empty() ? http1::ReasonPhrase(head.status) : head.reason);
  scratch_.append("\r\n");
  AppendResponseHeaders(head, upgraded, &scratch_);
  if (exchange_) scratch_.append(exchange_->affinity_header());
  policy::AppendHttp1(verdict_.response_fields, &scratch_);
  if (upgraded) {
    scratch_.append("\r\n");
    out_.Append(scratch_);
    state_ = State::kTunnel;
    worker_->loop().Disarm(&timer_);
    if (!in_.empty()) {
      exchange_->SendTunnel(in_.view());
      in_.Clear();
    }
    Flush();
    return;
  }
  bool no_body = head_request_ || head.status == 204 || head.status == 304;
  if (head.body == http1::BodyKind::ContentLength) {
    scratch_.append("content-length: ");
    scratch_.append(std::to_string(head.content_length));
    scratch_.append("\r\n");
    resp_mode_ = no_body ? RespMode::kNone : RespMode::kLength;
  } else if (no_body || head.body == http1::BodyKind::None) {
    resp_mode_ = RespMode::kNone;
    if (!no_body) {
      scratch_.append("content-length: 0\r\n");
    } else if (head_request_ && head.status != 204 && head.status != 304) {
      // RFC 9110 §8.6: a HEAD response may say how long the GET body would be.
      auto length = FindHeader(head.fields(), "content-length");
      if (length && !length->empty() && length->find_first_not_of("0123456789") == std::string_view::npos) {
        scratch_.append("content-length: ");
        scratch_.append(*length);
        scratch_.append("\r\n");
      }
    }
  } else if (minor_version_ >= 1) {
    scratch_.append("transfer-encoding: chunked\r\n");
    resp_mode_ = RespMode::kChunked;
  } else {
    resp_mode_ = RespMode::kClose;
    keep_alive_ = false;
  }
  if (close_after_response_ || worker_->draining()) keep_alive_ = false;
  if (!keep_alive_)
    scratch_.append("connection: close\r\n");
  else if (minor_version_ == 0)
    scratch_.append("connection: keep-alive\r\n");
  scratch_.append("\r\n");
  out_.Append(scratch_);
  if (resp_mode_ == RespMode::kNone)
    Flush();
  else
    FlushSoon();  // the body usually follows in this turn: one send for both
}

void Http1Connection::OnResponseBody(std::string_view data) {
  if (state_ == State::kClosed) return;
  if (resp_mode_ == RespMode::kNone) return;
  if (resp_mode_ == RespMode::kChunked) {
    AppendChunkHeader(&out_, data.size());
    out_.Append(data);
    out_.Append("\r\n");
  } else {
    out_.Append(data);
  }
  Flush();
  if (state_ != State::kClosed && out_.size() > kMaxBufferedOut && exchange_ && !paused_for_client_) {
    paused_for_client_ = true;
    exchange_->PauseUpstream(true);
  }
}

void Http1Connection::OnResponseTrailers(std::span<const http1::Header> trailers) {
  // Only a chunked response has a trailer section (RFC 9112 §7.1.2); otherwise they
  // are dropped, as a recipient may do.
  if (state_ != State::kClosed && resp_mode_ == RespMode::kChunked) AppendTrailerFields(trailers, &trailers_);
}

void Http1Connection::OnResponseEnd() {
  if (state_ == State::kClosed) return;
  if (state_ == State::kTunnel) {
    Close();
    return;
  }
  if (resp_mode_ == RespMode::kChunked) {
    out_.Append("0\r\n");
    out_.Append(trailers_);
    out_.Append("\r\n");
    trailers_.clear();
  }
  if (resp_mode_ == RespMode::kClose) close_after_response_ = true;
  if (state_ == State::kBody) close_after_response_ = true;  // request body not fully read
  response_done_ = true;
  FinishRequest();
}

void Http1Connection::OnResponseError(int status, const char* why) {
  if (state_ == State::kClosed) return;
  worker_->stats().upstream_errors.fetch_add(1, std::memory_order_relaxed);
  if (status == 0 || response_started_) {
    Close();  // mid-response: the client must see a truncated message, not a wrong one
    return;
  }
  if (state_ == State::kBody) close_after_response_ = true;
  std::string body = std::to_string(status) + " " + std::string(http1::ReasonPhrase(status)) + "\n";
  RespondLocal(status, body);
}

void Http1Connection::OnTunnelData(std::string_view data) {
  if (state_ == State::kClosed) return;
  out_.Append(data);
  Flush();
}

void Http1Connection::RespondLocal(int status, std::string_view body, std::string_view extra_headers,
                                   std::string_view content_type) {
  status_ = status;
  response_started_ = true;
  if (close_after_response_ || worker_->draining()) keep_alive_ = false;
  scratch_.clear();
  scratch_.append(minor_version_ == 0 ? "HTTP/1.0 " : "HTTP/1.1 ");
  scratch_.append(std::to_string(status));
  scratch_.push_back(' ');
  scratch_.append(http1::ReasonPhrase(status));
  scratch_.append("\r\ncontent-length: ");
  scratch_.append(std::to_string(body.size()));
  scratch_.append("\r\n");
  if (!body.empty()) {
    scratch_.append("content-type: ");
    scratch_.append(content_type);
    scratch_.append("\r\n");
  }
  scratch_.append(extra_headers);
  if (!request_id_.empty()) scratch_.append("x-request-id: " + request_id_ + "\r\n");
  if (!keep_alive_) scratch_.append("connection: close\r\n");
  scratch_.append("\r\n");
  if (!head_request_) scratch_.append(body);
  out_.Append(scratch_);
  response_done_ = true;
  FinishRequest();
}

void Http1Connection::FlushSoon() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  // Safe to capture `this`: the connection is only ever deleted by a Defer queued
  // after this one (Close, hand-off to h2), or after Run() has drained the queue.
  worker_->loop().Defer([this] {
    flush_scheduled_ = false;
    if (state_ != State::kClosed && !out_.empty()) Flush();
  });
}

}  // namespace keel::proxy
