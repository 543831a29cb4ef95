// HTTP/2 towards upstreams (backend-protocol GRPC/H2C, appProtocol h2c/grpc; GRPCS
// over TLS with ALPN h2). Per worker, like the HTTP/1 pool: H2Upstreams keeps one or
// more multiplexed connections per endpoint, each an h2::ClientSession over a socket
// borrowed from the UpstreamPool (connect, TLS and timeouts stay in one place). An
// Exchange opens one H2Call per attempt and hears back through H2CallListener.
//
// Ownership: calls belong to their connection and die when nghttp2 closes the stream
// (or the connection goes); the Exchange Release()s its call when it is done with it,
// after which it gets no callback. Connections die deferred, never inside their own
// callbacks.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "dataplane/event/loop.h"
#include "dataplane/http2/client_session.h"
#include "dataplane/proxy/upstream_pool.h"

namespace keel::proxy {

class H2CallListener {
 public:
  enum class Failure {
    kConnect,  // the connection never came up: nothing was sent
    kRefused,  // REFUSED_STREAM or past the GOAWAY's last stream: not processed (RFC 9113 §8.7)
    kLost,     // the connection closed before any response byte: maybe processed
    kReset,    // reset, or the connection failed, after the response began
    kTimeout,  // no response byte within the read timeout
  };
  virtual ~H2CallListener() = default;
  // The connection is up: request body bytes can be handed over.
  virtual void OnH2Connected() = 0;
  // `fields` lives for this call; no pseudo-headers. `end_stream`: complete already.
  virtual void OnH2Head(int status, const h2::FieldList& fields, bool end_stream) = 0;
  virtual void OnH2Data(std::string_view data) = 0;
  // The trailer section; OnH2End follows.
  virtual void OnH2Trailers(const h2::FieldList& fields) = 0;
  virtual void OnH2End() = 0;
  // The call is over; the listener must not touch it again.
  virtual void OnH2Failed(Failure failure, const char* why) = 0;
  // The request body queue ran empty.
  virtual void OnH2Writable() = 0;
};

class H2Connection;

// Exports the keel_upstream_h2_* series at 0 before the first HTTP/2 upstream.
void RegisterH2UpstreamMetrics();

class H2Call final : public h2::ClientStream {
 public:
  H2Call(H2Connection* conn, H2CallListener* listener, event::EventLoop* loop);
  ~H2Call() override;

  void SendBody(std::string_view data);
  void EndBody();
  // Response bytes handed to the client: the upstream may send that many more.
  void Consume(size_t n);
  // Inactivity deadline for the response (0: none); re-armed by every response frame.
  void SetReadTimeout(uint32_t ms);
  bool connected() const;

 private:
  friend class H2Connection;
  friend class H2Upstreams;
  void Touch();

  H2Connection* conn_;
  H2CallListener* listener_;
  event::EventLoop* loop_;
  event::Timer timer_;
  uint32_t timeout_ms_ = 0;
  bool got_response_ = false;
};

struct H2Target {
  const sockaddr_storage* addr = nullptr;
  socklen_t addr_len = 0;
  std::string key;  // the endpoint's key (CloseExcept matches on it)
  uint32_t connect_timeout_ms = 0;
  const tls::ClientContext* tls = nullptr;  // GRPCS: TLS with ALPN h2
  std::string_view sni;
};

class H2Upstreams {
 public:
  H2Upstreams(UpstreamPool* pool, const h2::ClientOptions& options, uint32_t idle_timeout_ms);
  ~H2Upstreams();
  H2Upstreams(const H2Upstreams&) = delete;
  H2Upstreams& operator=(const H2Upstreams&) = delete;

  // A new stream to the target, on a connection with a free stream slot or a new one.
  // `fields` starts with the pseudo-headers. An error only when no socket can be made.
  Result<H2Call*> Open(const H2Target& target, const h2::FieldList& fields, bool has_body,
                       H2CallListener* listener);
  // The listener is done: no more callbacks; an unfinished stream is cancelled.
  void Release(H2Call* call);
  // Endpoints gone from the snapshot: their connections take no new stream and close
  // once their streams are done.
  void RetireExcept(const std::function<bool(const std::string& key)>& keep);
  void RetireAll();
  size_t connection_count() const;

 private:
  friend class H2Connection;
  void Forget(H2Connection* c);

  UpstreamPool* pool_;
  h2::ClientOptions options_;
  uint32_t idle_timeout_ms_;
  std::unordered_map<std::string, std::vector<H2Connection*>> conns_;
};

}  // namespace keel::proxy
