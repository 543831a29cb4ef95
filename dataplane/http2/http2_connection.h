// Http2Connection: one client connection speaking h2c (prior knowledge, or after an
// HTTP/1.1 `Upgrade: h2c`). Owns the socket and an h2::ServerSession; each stream is
// one request with its own Exchange (to an HTTP/1.1 or HTTP/2 upstream) and implements
// ResponseSink. Backpressure both ways: request DATA reopens the client's window only
// once the Exchange took it; response bytes queue per stream and the upstream is
// paused while the client's window (or socket) lags.
//
// Part of keel_proxy (it needs Worker and Exchange), though it lives with the codec.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

#include "dataplane/event/loop.h"
#include "dataplane/http1/parser.h"
#include "dataplane/http2/session.h"
#include "dataplane/net/buffer.h"
#include "dataplane/net/socket.h"
#include "dataplane/net/transport.h"
#include "dataplane/proxy/worker.h"

namespace keel::proxy {

class Http2Connection final : public DownstreamConnection, private h2::SessionHandler {
 public:
  // `transport` null: plain TCP on fd (h2 over TLS arrives from tls::Handshake).
  Http2Connection(Worker* worker, int fd, const net::Address& peer, uint16_t local_port,
                  std::unique_ptr<net::Transport> transport = nullptr);
  ~Http2Connection() override;

  // True when `head` may switch to h2c: Upgrade: h2c with one valid HTTP2-Settings
  // (RFC 7540 §3.2.1) and no request body (we do not buffer one across the switch).
  static bool CanUpgrade(const http1::RequestHead& head);

  // Registers the socket with the worker's loop and processes `buffered` (bytes read
  // before the hand-off: the client preface, or what followed the upgrade request).
  // With `upgrade`, answers 101 first and serves that request as stream 1. Both are
  // copied; they may point into the previous connection's buffer.
  void Start(std::string_view buffered, const http1::RequestHead* upgrade = nullptr);
  // Graceful: GOAWAY now, close when the open streams are done.
  void CloseWhenIdle() override;
  void OnEvents(uint32_t events) override;

 private:
  class Stream;
  enum class TimerKind { kNone, kHeader, kIdle, kBody, kSend };

  // h2::SessionHandler
  h2::Stream* NewStream(int32_t id) override;
  void OnRequest(h2::Stream* s, h2::HeadVerdict verdict, const http1::RequestHead& head,
                 bool end_stream) override;
  void OnRequestBody(h2::Stream* s, std::string_view data) override;
  void OnRequestEnd(h2::Stream* s) override;
  void OnStreamClose(h2::Stream* s, uint32_t error_code) override;
  void OnStreamDrained(h2::Stream* s) override;

  void Forward(Stream* s, const http1::RequestHead& head, const RouteDecision& d);
  void RespondLocal(Stream* s, int status, std::string_view body, const h2::FieldList* extra = nullptr,
                    std::string_view content_type = "text/plain; charset=utf-8");
  void PushRequestBody(Stream* s);
  bool HoldBody(const Stream* s) const;
  void SendBody(Stream* s, std::string_view data);
  void MaybePauseUpstream(Stream* s);
  void ResumeUpstream(Stream* s);
  void CountResponse(int status);
  void ReadSome();
  void WriteOut();
  void AfterIo();
  void ScheduleFlush();
  void UpdateInterest();
  void UpdateTimer();
  void OnTimeout();
  void Close();

  Worker* worker_;
  int fd_;
  std::unique_ptr<net::Transport> io_;
  std::string peer_ip_;
  uint16_t local_port_;
  std::unique_ptr<h2::ServerSession> session_;
  std::unordered_set<Stream*> streams_;
  // Upstreams paused because the connection's queued response bytes ran high; resumed
  // together once they drain.
  std::unordered_set<Stream*> paused_for_connection_;
  net::Buffer out_;
  uint32_t interest_ = 0;
  event::Timer timer_;
  TimerKind timer_kind_ = TimerKind::kNone;
  uint32_t reading_bodies_ = 0;  // streams still receiving request DATA
  bool seen_request_ = false;
  bool in_events_ = false;
  bool read_progress_ = false;
  bool write_progress_ = false;
  bool flush_scheduled_ = false;
  bool write_blocked_ = false;
  bool draining_ = false;
  bool closed_ = false;
};

}  // namespace keel::proxy
