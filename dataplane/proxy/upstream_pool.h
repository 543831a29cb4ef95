// Per-worker pool of keep-alive HTTP/1.1 connections to upstream endpoints.
// Connections are owned by the pool; an exchange borrows one (Acquire), drives it
// through the Listener callbacks, and gives it back (Release) when the response was
// fully read and both sides allow reuse — or closes it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "dataplane/event/loop.h"
#include "dataplane/net/buffer.h"
#include "dataplane/net/socket.h"
#include "dataplane/net/transport.h"

namespace keel::tls {
class ClientContext;
class ClientHandshake;
}  // namespace keel::tls

namespace keel::proxy {

class UpstreamConn;

class UpstreamListener {
 public:
  virtual ~UpstreamListener() = default;
  virtual void OnUpstreamConnected(UpstreamConn* c) = 0;
  // New bytes are in c->in().
  virtual void OnUpstreamReadable(UpstreamConn* c) = 0;
  // Everything queued in c->out() was written.
  virtual void OnUpstreamDrained(UpstreamConn* c) = 0;
  // Connect failure, reset, timeout or EOF. `eof` is a clean close by the peer;
  // `during_connect` tells connect failures apart (always safe to retry).
  virtual void OnUpstreamClosed(UpstreamConn* c, bool eof, bool during_connect, const char* why) = 0;
};

class UpstreamPool;

class UpstreamConn : public event::Handler {
 public:
  UpstreamConn(UpstreamPool* pool, int fd, std::string key, bool connecting);
  ~UpstreamConn() override;

  net::Buffer& in() { return in_; }
  net::Buffer& out() { return out_; }
  const std::string& key() const { return key_; }
  // True when this connection served a request before: a failure before any
  // response byte is then the classic keep-alive race and worth one retry.
  bool reused() const { return requests_ > 1; }

  void SetListener(UpstreamListener* l) { listener_ = l; }
  // Writes what is queued in out(); OnUpstreamDrained follows when empty.
  void Flush();
  // Stop/resume reading (backpressure from a slow client).
  void PauseReading(bool paused);
  // Per-read inactivity deadline while a response is awaited or streamed.
  void SetReadTimeout(uint32_t ms);

  void OnEvents(uint32_t events) override;

 private:
  friend class UpstreamPool;
  void UpdateInterest();
  void Fail(bool eof, const char* why);
  // Upstream TLS handshake step after the TCP connect; true when done.
  bool AdvanceTls();

  UpstreamPool* pool_;
  int fd_;
  std::unique_ptr<net::Transport> io_;
  std::unique_ptr<tls::ClientHandshake> tls_;  // while the upstream TLS handshake runs
  uint32_t connect_interest_ = 0x004;          // EPOLLOUT until the handshake wants to read
  std::string key_;
  bool connecting_;
  bool idle_ = false;
  bool paused_ = false;
  bool closed_ = false;
  uint32_t interest_ = 0;
  uint32_t read_timeout_ms_ = 0;
  uint64_t requests_ = 0;
  net::Buffer in_, out_;
  UpstreamListener* listener_ = nullptr;
  event::Timer timer_;
  // Links in the pool's idle list of this key (intrusive: parking a connection
  // between requests allocates nothing).
  UpstreamConn* idle_prev_ = nullptr;
  UpstreamConn* idle_next_ = nullptr;
};

struct PoolStats {
  uint64_t connects = 0, connect_failures = 0, reuses = 0, idle_closed = 0;
};

class UpstreamPool {
 public:
  UpstreamPool(event::EventLoop* loop, uint32_t max_idle_per_endpoint, uint32_t idle_timeout_ms);
  ~UpstreamPool();

  // An idle connection to `addr` if one is alive, else a new connecting one. Errors
  // only when a socket cannot even be created. With `tls`, the connection runs a TLS
  // handshake (SNI `sni`) before OnUpstreamConnected; its `key` must then differ from
  // the plaintext one ("<endpoint>#tls:<sni>": CloseIdleExcept sees "<endpoint>").
  // `alpn_h2` offers ALPN "h2" in that handshake (HTTP/2 upstreams over TLS).
  Result<UpstreamConn*> Acquire(const sockaddr_storage& addr, socklen_t addr_len, const std::string& key,
                                uint32_t connect_timeout_ms, UpstreamListener* listener,
                                const tls::ClientContext* tls = nullptr, std::string_view sni = {},
                                bool alpn_h2 = false);
  // Gives a healthy connection back for reuse (or closes it if the pool is full).
  void Release(UpstreamConn* c);
  // Closes and forgets a connection (its listener gets no more callbacks).
  void Close(UpstreamConn* c);
  // Closes idle connections to endpoints no longer in the snapshot.
  void CloseIdleExcept(const std::function<bool(const std::string& key)>& keep);
  void CloseAllIdle();
  event::EventLoop* loop() const { return loop_; }
  const PoolStats& stats() const { return stats_; }
  size_t idle_count() const;

 private:
  friend class UpstreamConn;
  void RemoveIdle(UpstreamConn* c);

  // Most recently released first. Entries stay when they empty (the next Release
  // to that endpoint would re-create them); CloseIdleExcept drops those of endpoints
  // that left the snapshot.
  struct IdleList {
    UpstreamConn* head = nullptr;
    size_t size = 0;
  };

  event::EventLoop* loop_;
  uint32_t max_idle_;
  uint32_t idle_timeout_ms_;
  std::unordered_map<std::string, IdleList> idle_;
  PoolStats stats_;
};

}  // namespace keel::proxy
