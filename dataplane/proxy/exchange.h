// Exchange: one request's trip to an upstream and back — endpoint choice, pooled
// connection, request head and body out, response head and body in, and the
// retries that are safe (connect failures always; idempotent bodiless requests on
// a dead keep-alive connection or on a configured status).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/http1/parser.h"
#include "dataplane/http2/fields.h"
#include "dataplane/proxy/decision.h"
#include "dataplane/proxy/h2_upstream.h"
#include "dataplane/proxy/upstream_pool.h"
#include "dataplane/upstream/selector.h"

namespace keel::proxy {

class Worker;

// Implemented by the downstream side (HTTP/1 connection, HTTP/2 stream).
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  // Views in `head` are valid only during the call.
  virtual void OnResponseHead(const http1::ResponseHead& head, bool upgraded) = 0;
  virtual void OnResponseBody(std::string_view data) = 0;
  // The response's trailer section (HTTP/2 upstreams: gRPC status), before
  // OnResponseEnd. Views valid only during the call.
  virtual void OnResponseTrailers(std::span<const http1::Header> trailers) = 0;
  virtual void OnResponseEnd() = 0;
  // The exchange failed. Before a head was delivered the sink answers `status`;
  // after, it must abort the response (close, or RST_STREAM in h2).
  virtual void OnResponseError(int status, const char* why) = 0;
  // After a 101: raw bytes from the upstream.
  virtual void OnTunnelData(std::string_view data) = 0;
  // The upstream's send buffer drained: the downstream may read more body.
  virtual void OnUpstreamWritable() = 0;
};

enum class RequestBody { kNone, kContentLength, kChunked };

struct ExchangeRequest {
  // Request line and headers, each line ending in CRLF, without framing headers and
  // without the final empty line: the exchange adds Content-Length or chunked framing.
  std::string head;
  RequestBody body = RequestBody::kNone;
  uint64_t content_length = 0;
  bool idempotent = false;
  bool head_method = false;  // response to HEAD has no body
  bool upgrade = false;      // Connection: upgrade was requested
  std::string hash_key;      // for hash balancers (header/cookie/ip/uri per cluster)
  std::string sticky_value;  // affinity cookie value from the client, if any
};

class Exchange final : public UpstreamListener, private H2CallListener {
 public:
  Exchange(Worker* worker, ResponseSink* sink);
  ~Exchange() override;
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  void Start(const RouteDecision& decision, ExchangeRequest request);
  // Decoded request body bytes from the client, and its end.
  void SendBody(std::string_view data);
  void EndBody();
  // Raw client bytes after a 101.
  void SendTunnel(std::string_view data);
  void TunnelClosed();
  // Downstream backpressure: stop reading the upstream while the client is slow.
  void PauseUpstream(bool paused);
  // Too much request body queued towards the upstream: the downstream stops reading.
  bool Backlogged() const;
  bool finished() const { return state_ == State::kDone; }
  // Where the request went, for the access log.
  const std::string& upstream_address() const { return upstream_addr_; }
  int upstream_status() const { return upstream_status_; }
  // "set-cookie: ...\r\n" for session affinity when the client's cookie does not name
  // the endpoint that served it (none sent, or its endpoint is gone); else empty.
  const std::string& affinity_header() const { return affinity_header_; }
  uint32_t attempts() const { return attempts_; }

  // UpstreamListener
  void OnUpstreamConnected(UpstreamConn* c) override;
  void OnUpstreamReadable(UpstreamConn* c) override;
  void OnUpstreamDrained(UpstreamConn* c) override;
  void OnUpstreamClosed(UpstreamConn* c, bool eof, bool during_connect, const char* why) override;

 private:
  // exchange_h2.cc: the same trip over a multiplexed HTTP/2 upstream stream.
  void BuildH2Request();
  void AttemptH2(const upstream::Endpoint& ep, uint32_t connect_ms, const tls::ClientContext* tls);
  void SendBodyH2(std::string_view data);
  void FinishH2();
  uint32_t ReadTimeoutMs() const;
  // H2CallListener
  void OnH2Connected() override;
  void OnH2Head(int status, const h2::FieldList& fields, bool end_stream) override;
  void OnH2Data(std::string_view data) override;
  void OnH2Trailers(const h2::FieldList& fields) override;
  void OnH2End() override;
  void OnH2Failed(Failure failure, const char* why) override;
  void OnH2Writable() override;

  enum class State { kIdle, kConnecting, kAwaitingHead, kBody, kTunnel, kDone };
  enum class BodyMode { kNone, kLength, kChunked, kUntilClose };

  void Attempt();
  void WriteHeadAndPending(UpstreamConn* c);
  void QueueBody(std::string_view data);
  bool ParseHead(UpstreamConn* c);
  bool PumpBody(UpstreamConn* c);
  void Finish(bool reusable);
  void Fail(int status, const char* why);
  bool RetryAllowed(bool connect_failure) const;
  void ReportEndpoint(upstream::Outcome outcome);
  static void CountConnectFailure();
  uint64_t NowNs() const;

  Worker* worker_;
  ResponseSink* sink_;
  RouteDecision decision_;
  ExchangeRequest req_;
  State state_ = State::kIdle;
  UpstreamConn* conn_ = nullptr;
  // Body bytes received before the upstream connection was ready. Kept until then
  // so a connect failure can be retried on another endpoint without losing them.
  std::string pending_;
  bool body_done_ = false;
  bool body_bytes_sent_ = false;
  bool head_sent_ = false;       // to the sink
  bool upstream_paused_ = false;
  bool reuse_ok_ = false;
  upstream::Outcome status_outcome_ = upstream::Outcome::kSuccess;
  BodyMode mode_ = BodyMode::kNone;
  uint64_t remaining_ = 0;
  http1::ChunkedDecoder chunked_;
  int upstream_status_ = 0;
  uint32_t attempts_ = 0;
  // Held for the whole exchange: a config update mid-request keeps this cluster's
  // state alive until the request ends.
  std::shared_ptr<upstream::ClusterSelector> sel_;
  upstream::ClusterSelector::Ticket ticket_;
  bool ticket_live_ = false;
  bool retrying_ = false;
  upstream::TriedSet tried_;
  uint64_t attempt_started_ns_ = 0;
  std::string upstream_addr_;
  std::string affinity_header_;
  // HTTP/2 upstream (cluster protocol H2C/H2): the request as h2 fields, the stream.
  bool h2_ = false;
  h2::FieldList h2_fields_;
  H2Call* call_ = nullptr;
  size_t h2_unconsumed_ = 0;  // response bytes held back while the client is slow
};

}  // namespace keel::proxy
