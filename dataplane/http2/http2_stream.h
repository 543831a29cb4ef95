// Http2Connection::Stream: one request of an h2 client connection. It is the
// exchange's ResponseSink (through the cache filter): response heads, bodies and
// trailers go into the h2 session, errors become a local answer or RST_STREAM.
// Private to keel_proxy: included by http2_connection.cc and http2_streams.cc only.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/log.h"
#include "dataplane/cache/filter.h"
#include "dataplane/http2/http2_connection.h"
#include "dataplane/observe/request_record.h"
#include "dataplane/proxy/exchange.h"
#include "dataplane/proxy/forward.h"

namespace keel::proxy {
namespace h2flow {
// Response bytes queued on one stream (client window closed) before its upstream is
// paused; it resumes below the session's low-water mark. Across all streams of a
// connection the budget is kConnHighWater, so 128 streams cannot hold 128 times it.
inline constexpr size_t kStreamHighWater = 256 * 1024;
inline constexpr size_t kConnHighWater = 1024 * 1024;
inline constexpr size_t kConnLowWater = 512 * 1024;
// Request body handed to a stream's Exchange and not yet written upstream. Past it
// the bytes wait unconsumed, so the client's window (not our memory) absorbs a slow
// or still-connecting upstream: Exchange alone would take up to 1 MiB per stream.
inline constexpr size_t kMaxBodyInFlight = 64 * 1024;
}  // namespace h2flow

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
  policy::Verdict verdict;        // route policy outcome; holds the in-flight slot
  cache::Filter cache{this};      // between the stream and its exchange: cache and compression
  std::string request_id;
  h2::FieldList trailers;    // from the upstream, sent after the body
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

}  // namespace keel::proxy
