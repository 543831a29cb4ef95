// Http1Connection: one client connection speaking HTTP/1.x. Reads and parses request
// heads (our strict parser), routes, hands the request to an Exchange, streams the
// request body up and the response down with backpressure both ways, and enforces
// the slow-client timeouts. Pipelined requests are served one after another.
#pragma once

#include <memory>
#include <string>

#include "dataplane/cache/filter.h"
#include "dataplane/event/loop.h"
#include "dataplane/http1/parser.h"
#include "dataplane/net/buffer.h"
#include "dataplane/net/socket.h"
#include "dataplane/net/transport.h"
#include "dataplane/observe/request_record.h"
#include "dataplane/proxy/exchange.h"
#include "dataplane/proxy/worker.h"

namespace keel::proxy {

class Http1Connection final : public DownstreamConnection, public ResponseSink {
 public:
  // `transport` null: plain TCP on fd (TLS connections arrive from tls::Handshake).
  Http1Connection(Worker* worker, int fd, const net::Address& peer, uint16_t local_port,
                  std::unique_ptr<net::Transport> transport = nullptr);
  ~Http1Connection() override;

  void Start();
  // Graceful shutdown: close now if idle, else after the current response.
  void CloseWhenIdle() override;

  void OnEvents(uint32_t events) override;

  // ResponseSink
  void OnResponseHead(const http1::ResponseHead& head, bool upgraded) override;
  void OnResponseBody(std::string_view data) override;
  void OnResponseTrailers(std::span<const http1::Header> trailers) override;
  void OnResponseEnd() override;
  void OnResponseError(int status, const char* why) override;
  void OnTunnelData(std::string_view data) override;
  void OnUpstreamWritable() override;

 private:
  enum class State { kIdle, kHead, kBody, kAwaitResponse, kTunnel, kClosed };
  enum class RespMode { kNone, kLength, kChunked, kClose };

  void ReadSome();
  void Process();
  void HandleHead(const http1::RequestHead& head, size_t consumed);
  // h2c: an Http2Connection takes over the socket, the unread bytes and our place in
  // the worker; `upgrade` is the request that asked for it (Upgrade: h2c), if any.
  void HandOffToHttp2(const http1::RequestHead* upgrade, size_t consumed);
  bool PumpBody();
  void Forward(const http1::RequestHead& head, const RouteDecision& d);
  void RespondLocal(int status, std::string_view body, std::string_view extra_headers = {},
                    std::string_view content_type = "text/plain; charset=utf-8");
  void FinishRequest();
  void Flush();
  // Flush at the end of this event-loop turn (http1_flush.cc).
  void FlushSoon();
  void Close();
  void UpdateInterest();
  void ArmTimer(uint32_t ms);
  void OnTimeout();
  void ResetRequest();

  Worker* worker_;
  int fd_;
  std::unique_ptr<net::Transport> io_;
  net::Address peer_;
  std::string peer_ip_;
  uint16_t local_port_;
  State state_ = State::kIdle;
  uint32_t interest_ = 0;
  net::Buffer in_, out_;
  event::Timer timer_;
  std::unique_ptr<Exchange> exchange_;
  cache::Filter cache_{this};  // between us and exchange_: cache and compression

  // Per-request state (strings keep their capacity across requests).
  std::string method_, host_, path_, request_id_;
  int minor_version_ = 1;
  bool keep_alive_ = true;
  bool head_request_ = false;
  bool response_started_ = false;
  bool response_done_ = false;
  bool close_after_response_ = false;
  bool paused_for_upstream_ = false;
  bool paused_for_client_ = false;
  bool flush_scheduled_ = false;
  http1::BodyKind body_kind_ = http1::BodyKind::None;
  uint64_t body_remaining_ = 0;
  uint64_t body_received_ = 0;
  uint64_t body_limit_ = 0;
  http1::ChunkedDecoder chunked_;
  // Resumes head parsing where the last read stopped: a client trickling its head a
  // byte at a time costs O(n), not O(n²).
  http1::ParseHint hint_;
  RespMode resp_mode_ = RespMode::kNone;
  int status_ = 0;
  uint64_t started_ms_ = 0;
  uint64_t bytes_out_at_start_ = 0;
  uint64_t bytes_out_ = 0;
  RouteLabels labels_;
  observe::RequestRecord record_;  // metrics and access log of the current request
  policy::Verdict verdict_;
  std::string scratch_;
  std::string trailers_;  // trailer lines for the last chunk of the response
};

}  // namespace keel::proxy
