// ServerSession: one downstream HTTP/2 session on nghttp2's callback API, without
// sockets. Bytes go in through Receive and come out of Send; requests come out as
// complete heads (RequestHeaders) and body pieces through SessionHandler; responses go
// in as a head plus a body queue per stream that nghttp2 pulls as the client's flow
// control window allows (deferred data). Request body flow control is manual: the
// window reopens only for bytes the handler Consume()d, i.e. handed on upstream.
// Abuse limits (SessionOptions) are applied here: rapid reset, CONTINUATION floods,
// header list size, SETTINGS/PING floods.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/http1/parser.h"
#include "dataplane/http2/fields.h"
#include "dataplane/http2/frame_tracker.h"
#include "dataplane/http2/options.h"
#include "dataplane/net/buffer.h"

struct nghttp2_session;

namespace keel::h2 {

class ServerSession;

// RFC 9113 §7 error codes the proxy sends.
inline constexpr uint32_t kNoError = 0x0;
inline constexpr uint32_t kProtocolError = 0x1;
inline constexpr uint32_t kInternalError = 0x2;
inline constexpr uint32_t kCancel = 0x8;
inline constexpr uint32_t kEnhanceYourCalm = 0xb;

// Per-stream state the session needs; the handler derives its own stream from it and
// owns it (the session never deletes one).
class Stream {
 public:
  explicit Stream(int32_t id) : id_(id) {}
  virtual ~Stream() = default;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  int32_t id() const { return id_; }
  // Response body bytes queued but not yet framed (flow control or a slow socket).
  size_t queued_bytes() const { return out_.size(); }
  // Request body bytes received and not yet Consume()d.
  size_t unconsumed_bytes() const { return unconsumed_; }
  bool request_ended() const { return request_ended_; }
  bool closed() const { return closed_; }
  // Ask for SessionHandler::OnStreamDrained once the queue falls below the low mark.
  void NotifyWhenDrained() { notify_drained_ = true; }

 private:
  friend class ServerSession;
  int32_t id_;
  RequestHeaders headers_;
  net::Buffer out_;
  FieldList trailers_;
  size_t unconsumed_ = 0;
  bool out_ended_ = false;
  bool deferred_ = false;  // nghttp2 holds the data provider as deferred
  bool notify_drained_ = false;
  bool responded_ = false;
  bool accepted_ = false;  // handed to OnRequest (not reset as malformed)
  bool request_ended_ = false;
  bool closed_ = false;
};

class SessionHandler {
 public:
  virtual ~SessionHandler() = default;
  // A client opened stream `id`: return the object that will carry it.
  virtual Stream* NewStream(int32_t id) = 0;
  // The request head is complete. `head` views live for this call only. Unless
  // verdict is kOk the handler answers locally (431/405); kMalformed never arrives
  // here (the session resets the stream). `end_stream`: no body follows.
  virtual void OnRequest(Stream* s, HeadVerdict verdict, const http1::RequestHead& head, bool end_stream) = 0;
  // Request body bytes. Call ServerSession::Consume for them once they are handed on
  // (or dropped); until then they count against the client's window.
  virtual void OnRequestBody(Stream* s, std::string_view data) = 0;
  virtual void OnRequestEnd(Stream* s) = 0;
  // The stream is gone (completed, reset by either side, or the session ended).
  // After this call the session no longer touches `s`; the handler frees it.
  virtual void OnStreamClose(Stream* s, uint32_t error_code) = 0;
  // The response queue of a stream that asked (NotifyWhenDrained) ran low.
  virtual void OnStreamDrained(Stream* s) = 0;
};

struct SessionStats {
  uint64_t streams = 0;
  uint64_t client_resets = 0;
  bool enhance_your_calm = false;  // we sent GOAWAY(ENHANCE_YOUR_CALM)
};

class ServerSession {
 public:
  // `limits.max_headers` caps the regular fields of a request.
  ServerSession(const SessionOptions& options, const http1::Limits& limits, SessionHandler* handler);
  ~ServerSession();
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  // Queues our SETTINGS (the server connection preface). Call once, first.
  void Start();
  // h2c upgrade (RFC 7540 §3.2): SETTINGS, then `request` — the HTTP/1.1 request that
  // carried `Upgrade: h2c` — becomes stream 1, half-closed (remote), and is handed
  // to OnRequest. `settings` is the decoded HTTP2-Settings. False if nghttp2 refused.
  bool StartUpgraded(std::string_view settings, const http1::RequestHead& request);

  // Feeds received bytes. False on a connection error; a GOAWAY is queued if the
  // session can still send one. Callbacks run inside.
  bool Receive(std::string_view data);
  // Appends frames to `out` until it holds at least `limit` bytes or nothing is
  // pending. False on a fatal error.
  bool Send(net::Buffer* out, size_t limit);
  bool WantRead() const;
  bool WantWrite() const;

  // ───── responses ─────
  // Response head. `fields` must not contain pseudo-headers. With has_body the
  // stream stays open for QueueBody/EndBody, else END_STREAM goes with the head.
  bool Respond(Stream* s, int status, const FieldList& fields, bool has_body);
  // 1xx (100 Continue) before the final head.
  void Inform(Stream* s, int status);
  void QueueBody(Stream* s, std::string_view data);
  // Ends the response body; non-empty `trailers` follow it as a trailer section
  // (gRPC status). Only after Respond(has_body = true).
  void EndBody(Stream* s, const FieldList* trailers = nullptr);
  void Reset(Stream* s, uint32_t error_code);
  // Request body bytes handed on: the window reopens by that much.
  void Consume(Stream* s, size_t n);

  // Graceful: GOAWAY(NO_ERROR) naming the last stream we processed; those finish.
  void Shutdown();
  // GOAWAY with `error_code`; the session ends once it is sent.
  void Terminate(uint32_t error_code);

  // Where the client's byte stream stands: mid-frame/header block or at a boundary.
  FrameTracker::Where where() const { return tracker_.where(); }
  size_t open_streams() const { return open_streams_; }
  // Response body bytes queued on all open streams together.
  size_t queued_bytes() const { return queued_bytes_; }
  const SessionStats& stats() const { return stats_; }

 private:
  struct Callbacks;
  void Dispatch(Stream* s, bool end_stream);
  void CountReset();
  void Resume(Stream* s);

  SessionOptions options_;
  http1::Limits limits_;
  SessionHandler* handler_;
  nghttp2_session* session_ = nullptr;
  FrameTracker tracker_;
  size_t open_streams_ = 0;
  size_t queued_bytes_ = 0;
  uint64_t reset_window_start_ms_ = 0;
  uint32_t resets_in_window_ = 0;
  SessionStats stats_;
};

}  // namespace keel::h2
