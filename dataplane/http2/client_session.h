// ClientSession: one upstream HTTP/2 connection on nghttp2's client API, without
// sockets — the mirror of ServerSession. Requests go in as a field list plus a body
// queue per stream that nghttp2 pulls as the upstream's window allows; responses come
// out as a head, body pieces and trailers (gRPC puts its status in trailers, so they
// are first-class here). Response flow control is manual: the upstream's window
// reopens only for bytes the handler Consume()d, i.e. handed to the client, so a slow
// client holds back its upstream stream instead of filling our memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "dataplane/http2/fields.h"
#include "dataplane/net/buffer.h"

struct nghttp2_session;

namespace keel::h2 {

// RFC 9113 §7: the upstream did not process the stream; safe to retry anywhere.
inline constexpr uint32_t kRefusedStream = 0x7;

struct ClientOptions {
  // SETTINGS_INITIAL_WINDOW_SIZE we advertise: response bytes per stream in flight
  // before the client consumed them.
  uint32_t initial_window_bytes = 256 * 1024;
  // Connection receive window, shared by all streams of the connection. A stream
  // whose client is slow keeps up to its stream window of it unconsumed, so a small
  // connection window would let 16 slow clients stall every other stream to that
  // endpoint (head-of-line blocking). Memory stays bounded by streams × stream
  // window whatever this is; 32 MiB is 128 such streams.
  uint32_t connection_window_bytes = 32 * 1024 * 1024;
  // SETTINGS_MAX_HEADER_LIST_SIZE for responses and trailers.
  uint32_t max_header_list_bytes = 64 * 1024;
};

// One request; the handler owns it, the session never deletes one.
class ClientStream {
 public:
  ClientStream() = default;
  virtual ~ClientStream() = default;
  ClientStream(const ClientStream&) = delete;
  ClientStream& operator=(const ClientStream&) = delete;

  int32_t id() const { return id_; }
  // Request body queued and not yet framed (the upstream's window or our socket lags).
  size_t queued_bytes() const { return out_.size(); }
  // Response DATA received and not yet Consume()d.
  size_t unconsumed_bytes() const { return unconsumed_; }
  bool closed() const { return closed_; }
  // EndBody was called (or there was no body): END_STREAM is sent or about to be.
  bool request_ended() const { return out_ended_; }
  // The upstream ended its side (END_STREAM seen): the response is complete.
  bool response_ended() const { return response_ended_; }

 private:
  friend class ClientSession;
  int32_t id_ = -1;
  net::Buffer out_;
  FieldList fields_;  // response head or trailers being decoded
  size_t unconsumed_ = 0;
  int status_ = 0;
  bool out_ended_ = false;
  size_t header_bytes_ = 0;  // of the head or trailers being decoded
  bool deferred_ = false;
  bool drain_pending_ = false;  // listed in ClientSession::drained_
  bool head_done_ = false;      // the final (non-1xx) head was delivered
  bool response_ended_ = false;
  bool closed_ = false;
};

class ClientHandler {
 public:
  virtual ~ClientHandler() = default;
  // The final response head (1xx heads are skipped). `fields` has no pseudo-headers
  // and lives for this call. `end_stream`: no body or trailers follow.
  virtual void OnResponseHead(ClientStream* s, int status, const FieldList& fields, bool end_stream) = 0;
  // Response DATA; ClientSession::Consume it once handed on.
  virtual void OnResponseData(ClientStream* s, std::string_view data) = 0;
  // The trailer section; the response is complete after it.
  virtual void OnResponseTrailers(ClientStream* s, const FieldList& fields) = 0;
  // END_STREAM after DATA (a response with no trailers is complete).
  virtual void OnResponseEnd(ClientStream* s) = 0;
  // The stream is gone: completed, reset by either side, refused (kRefusedStream: not
  // processed), or the session ended. The session no longer touches `s` after it.
  virtual void OnStreamClose(ClientStream* s, uint32_t error_code) = 0;
  // A stream's request body queue ran empty: more may be queued. Called from Send,
  // outside nghttp2's callbacks.
  virtual void OnRequestDrained(ClientStream* s) = 0;
};

class ClientSession {
 public:
  ClientSession(const ClientOptions& options, ClientHandler* handler);
  ~ClientSession();
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  // Queues the connection preface and our SETTINGS. Call once, first.
  void Start();
  // Opens a stream. `fields` starts with the pseudo-headers (:method, :scheme,
  // :authority, :path), lower-case names. With has_body the request stays open for
  // QueueBody/EndBody. False when no new stream may be opened (GOAWAY received, ids
  // exhausted, session ended).
  bool Submit(ClientStream* s, const FieldList& fields, bool has_body);
  void QueueBody(ClientStream* s, std::string_view data);
  void EndBody(ClientStream* s);
  void Reset(ClientStream* s, uint32_t error_code);
  // Response bytes handed on: the upstream's window reopens by that much.
  void Consume(ClientStream* s, size_t n);

  // Feeds received bytes. False on a connection error (a GOAWAY is queued if the
  // session can still send one). Callbacks run inside.
  bool Receive(std::string_view data);
  // Appends frames to `out` until it holds at least `limit` bytes or nothing is
  // pending. False on a fatal error.
  bool Send(net::Buffer* out, size_t limit);
  bool WantRead() const;
  bool WantWrite() const;
  // No new stream will be accepted: GOAWAY received (or sent).
  bool going_away() const { return going_away_; }
  // Streams we may still open before the upstream's SETTINGS_MAX_CONCURRENT_STREAMS.
  size_t spare_streams() const;
  size_t open_streams() const { return open_streams_; }
  // Graceful: GOAWAY(NO_ERROR); open streams finish.
  void Shutdown();

 private:
  struct Callbacks;
  void Resume(ClientStream* s);

  ClientOptions options_;
  ClientHandler* handler_;
  nghttp2_session* session_ = nullptr;
  std::vector<ClientStream*> drained_;
  size_t open_streams_ = 0;
  bool going_away_ = false;
};

}  // namespace keel::h2
